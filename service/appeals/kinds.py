"""What an enterprise may raise, and the rules a charge may break. Pure vocabulary.

The charge rules are the banking regulator's 七不准 (no tying loans to deposits, no fees
without a service, no products forced on a borrower, no cost passed on to it; 银监发〔2012〕3号)
and 四公开 (charges, prices, what a service does and preferential policies made public), which
the city's financing plan requires banks to keep (金融方案 (八)), naming the guarantee,
insurance, appraisal and notarisation charges it forbids as unreasonable."""

from enum import StrEnum


class AppealKind(StrEnum):
    unmatched_need = "unmatched_need"
    slow_response = "slow_response"
    renewal_refused = "renewal_refused"
    unreasonable_charge = "unreasonable_charge"
    rate_above_offer = "rate_above_offer"
    other = "other"


KIND_LABEL: dict[AppealKind, str] = {
    AppealKind.unmatched_need: "融资需求无银行对接",
    AppealKind.slow_response: "银行响应慢",
    AppealKind.renewal_refused: "续贷被拒",
    AppealKind.unreasonable_charge: "不合理收费",
    AppealKind.rate_above_offer: "实际利率高于承诺",
    AppealKind.other: "其他",
}

# A bank is named for every kind about a bank's conduct; an unmatched need may name none.
NEEDS_BANK: frozenset[AppealKind] = frozenset(
    {
        AppealKind.slow_response,
        AppealKind.renewal_refused,
        AppealKind.unreasonable_charge,
        AppealKind.rate_above_offer,
    }
)


class ChargeRule(StrEnum):
    """The rule a charge breaks: 七不准 (seven) and 四公开 (four)."""

    loan_to_deposit = "loan_to_deposit"
    deposit_linked = "deposit_linked"
    fee_without_service = "fee_without_service"
    rate_split_as_fee = "rate_split_as_fee"
    tied_sale = "tied_sale"
    rate_to_ceiling = "rate_to_ceiling"
    cost_passed_on = "cost_passed_on"
    fees_public = "fees_public"
    price_public = "price_public"
    function_public = "function_public"
    preference_public = "preference_public"


CHARGE_RULE_LABEL: dict[ChargeRule, str] = {
    ChargeRule.loan_to_deposit: "七不准：不准以贷转存",
    ChargeRule.deposit_linked: "七不准：不准存贷挂钩",
    ChargeRule.fee_without_service: "七不准：不准以贷收费",
    ChargeRule.rate_split_as_fee: "七不准：不准浮利分费",
    ChargeRule.tied_sale: "七不准：不准借贷搭售（保险、理财等）",
    ChargeRule.rate_to_ceiling: "七不准：不准一浮到顶",
    ChargeRule.cost_passed_on: "七不准：不准转嫁成本（担保、评估、公证、登记等费用）",
    ChargeRule.fees_public: "四公开：收费项目公开",
    ChargeRule.price_public: "四公开：服务质价公开",
    ChargeRule.function_public: "四公开：效用功能公开",
    ChargeRule.preference_public: "四公开：优惠政策公开",
}


class ChargeItem(StrEnum):
    """What the charge was for (the plan names guarantee, insurance, appraisal and
    notarisation)."""

    guarantee = "guarantee"
    insurance = "insurance"
    appraisal = "appraisal"
    notarisation = "notarisation"
    consulting = "consulting"
    other = "other"


CHARGE_ITEM_LABEL: dict[ChargeItem, str] = {
    ChargeItem.guarantee: "担保费",
    ChargeItem.insurance: "保险费",
    ChargeItem.appraisal: "评估费",
    ChargeItem.notarisation: "公证费",
    ChargeItem.consulting: "顾问、咨询费",
    ChargeItem.other: "其他费用",
}


class HandlerKind(StrEnum):
    bank = "bank"
    department = "department"
