"""The expert evaluation set: realistic Wuxi enterprises and needs, each labelled with what a
seasoned credit officer at a Wuxi branch (and the financial office) expects of the
recommendations against the seeded catalogue and scoring configuration: which schemes and
products are eligible or not, what should rank in the top three, which near misses are
actionable (and which must not be shown), and whether leads would be made.

Run by tests/matching/test_expert_cases.py (every case asserted) and by
bench/expert_agreement.py (agreement per expectation kind). Pure: the seed files, no database.

A product is named by its code, a scheme by its code (xikedai, xixindai, zhuanjingtexin,
sukedai, bridge_fund) and a product category as ``category:<name>``."""

import json
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from service.matching import facts, scoring
from service.matching.catalogue import Catalogue, Offer
from service.matching.product_arrays import ProductArrays
from service.matching.recommendations import _recommend
from service.matching.schemas import NearMiss, Recommendation
from service.products.models import Product, ProductSpec, ProductVersion
from service.products.schemas import ProductCreate
from service.taxonomy.sizing import Figures, SizeRow, Threshold, classify

REFERENCE = Path(__file__).resolve().parents[2] / "seed" / "reference"
ON = date(2026, 12, 1)
WAN = 1_000_000  # fen
SCHEMES = {"xikedai", "xixindai", "zhuanjingtexin", "sukedai", "bridge_fund", "own"}
POLICY = {"xikedai", "xixindai", "zhuanjingtexin", "bridge_fund"}
TIERS = {c["code"]: c["tier"] for c in json.loads((REFERENCE / "clusters.json").read_text("utf-8"))}


def _load(name: str) -> Any:
    return json.loads((REFERENCE / name).read_text(encoding="utf-8"))


@cache
def size_rows() -> tuple[SizeRow, ...]:
    return tuple(
        SizeRow(
            item["key"],
            item["name"],
            tuple(item["gbt_scope"]),
            tuple(item["indicators"]),
            tuple(
                Threshold(cls, t["employees_min"], t["revenue_min_wan"], t["assets_min_wan"])
                for cls, t in item["thresholds"].items()
            ),
        )
        for item in _load("size_standards.json")
    )


def catalogue(on: date = ON) -> Catalogue:
    """The seeded catalogue, names and scoring configuration, as the service loads them."""
    banks = {b["code"]: b["name"] for b in _load("banks.json")}
    offers = []
    for i, item in enumerate(_load("products.json"), start=1):
        create = ProductCreate.model_validate(item)
        product = Product(id=i, code=create.code, bank_code=create.bank_code, status="active")
        spec = {f: getattr(create, f) for f in ProductSpec.model_fields}
        version = ProductVersion(**spec, product_id=i, version=1)
        ref = {
            "product_code": create.code,
            "product_name": create.name,
            "product_version": 1,
            "bank_code": create.bank_code,
            "bank_name": banks.get(create.bank_code),
            "scheme": create.scheme,
            "category": str(create.category),
        }
        offers.append(Offer(ref, facts.product_rules(product, version)))
    names: dict[str, str] = {}
    for file in ("clusters.json", "districts.json", "qualification_types.json"):
        names.update({x["code"]: x["name"] for x in _load(file)})
    names.update({f"ownership:{x['code']}": x["name"] for x in _load("ownership_types.json")})
    data = _load("scoring.json")
    config = facts.config_from_dict(data["version"], data, {"LPR1Y": 300, "LPR5Y": 350})
    return Catalogue(offers, names, config, on, ProductArrays([o.rules for o in offers]))


@dataclass(frozen=True)
class Firm:
    """An enterprise as a credit officer would describe it."""

    industry: str  # GB/T 4754
    employees: int
    revenue_wan: int
    assets_wan: int | None = None
    cluster: str | None = None
    area: str = "320214"  # where it is registered (新吴区)
    district: str | None = "xinwu"
    quals: tuple[tuple[str, str, str | None], ...] = ()  # (code, issued, expires)
    established: str = "2015-06-01"
    grade: str | None = "A"
    ownership: str | None = "private"
    bridge: str | None = None

    def facts(self, area_prefixes: tuple[str, ...] = ("3202",)) -> scoring.EnterpriseFacts:
        size = classify(
            self.industry,
            Figures(
                self.employees,
                self.revenue_wan * WAN,
                None if self.assets_wan is None else self.assets_wan * WAN,
            ),
            size_rows(),
        )
        return scoring.EnterpriseFacts(
            id=1,
            cluster=self.cluster,
            tier=TIERS.get(self.cluster or ""),
            size_class=size.size_class,
            qualifications=tuple(
                scoring.Held(
                    code, date.fromisoformat(issued), date.fromisoformat(end) if end else None
                )
                for code, issued, end in self.quals
            ),
            established=date.fromisoformat(self.established),
            revenue_fen=self.revenue_wan * WAN,
            credit_grade=self.grade,
            district=self.district,
            registered_in_wuxi=self.area.startswith("3202"),
            industry_code=self.industry,
            ownership=self.ownership,
            area_code=self.area,
            in_service_area=scoring.in_service_area(self.area, area_prefixes),
            bridge=self.bridge,
        )


@dataclass(frozen=True)
class Need:
    amount_wan: int
    term_months: int
    purpose: str
    collateral: tuple[str, ...] = ("none",)


@dataclass(frozen=True)
class Case:
    id: str
    title: str
    firm: Firm
    need: Need | None = None
    eligible: tuple[str, ...] = ()
    not_eligible: tuple[str, ...] = ()
    top3: tuple[str, ...] = ()  # each of these is among the top three
    not_top3: tuple[str, ...] = ()
    near_miss: tuple[tuple[str, str], ...] = ()  # (product or scheme, text in its remedy)
    not_near_miss: tuple[str, ...] = ()
    leads: bool | None = None
    notice: str | None = None  # text in one of the notices


@dataclass
class Outcome:
    items: list[Recommendation]
    near_misses: list[NearMiss]
    notices: list[str]
    checks: list[tuple[str, str, bool]] = field(default_factory=list)  # (kind, what, ok)


def _is(ref: Any, token: str) -> bool:
    if token.startswith("category:"):
        return ref.category == token.split(":", 1)[1]
    if token in SCHEMES:
        return ref.scheme == token
    return ref.product_code == token


def evaluate(case: Case, cat: Catalogue) -> Outcome:
    e = case.firm.facts()
    need = None
    if case.need is not None:
        n = case.need
        need = scoring.NeedFacts(
            n.amount_wan * WAN,
            n.term_months,
            n.purpose,
            frozenset(n.collateral),
            cat.config.purpose_ancestors(n.purpose),
        )
    bases: list[tuple[str, scoring.NeedFacts | None]] = [("need" if need else "profile", need)]
    items, misses, notices = _recommend(cat, e, bases)
    out = Outcome(items, misses, [n.message for n in notices])
    check = out.checks.append
    for token in case.eligible:
        check(("eligible", token, any(_is(i, token) for i in items)))
    for token in case.not_eligible:
        check(("not_eligible", token, not any(_is(i, token) for i in items)))
    top = items[:3]
    for token in case.top3:
        check(("top3", token, any(_is(i, token) for i in top)))
    for token in case.not_top3:
        check(("not_top3", token, not any(_is(i, token) for i in top)))
    for token, remedy in case.near_miss:
        found = [m for m in misses if _is(m, token)]
        ok = any(remedy in f.remedy for m in found for f in m.failures)
        check(("near_miss", f"{token}: {remedy}", ok))
    for token in case.not_near_miss:
        check(("not_near_miss", token, not any(_is(m, token) for m in misses)))
    # Always: near misses are few and ask only what the enterprise can change soon.
    actionable = len(misses) <= 5 and all(f.actionable for m in misses for f in m.failures)
    check(("near_miss_actionable", f"{len(misses)} near misses", actionable))
    if case.leads is not None:
        check(("leads", str(case.leads), bool(items) == case.leads))
    if case.notice is not None:
        check(("notice", case.notice, any(case.notice in n for n in out.notices)))
    return out


def _q(code: str, issued: str = "2025-03-01", expires: str | None = "2028-02-28") -> tuple:
    return (code, issued, expires)


SRDI = _q("srdi_sme")
GIANT = _q("little_giant", "2024-07-01", "2027-06-30")
HIGH_TECH = _q("high_tech", "2024-11-01", "2027-10-31")
TECH_SME = _q("tech_sme", "2026-05-01", "2027-04-30")
INNOVATIVE = _q("innovative_sme", "2025-01-01", "2027-12-31")

# A medium 专精特新 equipment maker (C3424), Wuxi 新吴区, 420 people, 3.6亿 revenue.
ZJTX_MAKER = Firm(
    "C3424", 420, 36_000, 30_000, cluster="hi_equip", quals=(SRDI, INNOVATIVE), grade="AA"
)
# A small 高新技术 IC design house, 60 people, 4500万 revenue.
IC_DESIGN = Firm("C3973", 60, 4_500, 3_000, cluster="ic", quals=(HIGH_TECH, TECH_SME))
# An 8-person software firm, 300万 revenue, 科技型中小企业.
TINY_SOFTWARE = Firm(
    "I6513", 8, 300, 200, cluster="software", quals=(TECH_SME,), established="2021-03-01"
)
# A small textile dyer with no qualifications, 80 people, 6000万 revenue.
DYER = Firm("C1713", 80, 6_000, 5_000, cluster="textile", grade="BBB", quals=())
# A Shanghai-registered trading company.
SHANGHAI_TRADER = Firm("F5179", 30, 20_000, 5_000, area="310115", district=None, quals=(HIGH_TECH,))
# A small auto-parts supplier in 江阴.
JIANGYIN_PARTS = Firm(
    "C3670", 150, 9_000, 7_000, cluster="auto", area="320281", district="jiangyin", grade="A"
)
# A micro environmental-engineering firm in 宜兴.
YIXING_ECO = Firm(
    "N7723", 9, 800, 600, cluster="eco_env", area="320282", district="yixing", grade="BBB"
)
LAPSED_HIGH_TECH = Firm(
    "C3562",
    120,
    8_000,
    6_000,
    cluster="hi_equip",
    quals=(_q("high_tech", "2023-10-27", "2026-10-26"),),
)

CASES: list[Case] = [
    # --- collateral: what the enterprise can give ---------------------------------------
    Case(
        "zjtx-offers-collateral",
        "中型专精特新设备制造商需 3000 万用于设备购置，提供设备和房产抵押：专精特新贷照样可贷",
        ZJTX_MAKER,
        Need(3000, 24, "equipment", ("equipment", "property")),
        eligible=("zhuanjingtexin", "icbc-wx-zjtx", "abc-wx-zjtx", "jsbank-wx-zjtx"),
        not_eligible=("cmb-wx-zjtx",),  # its cap is 2000万
        top3=("zhuanjingtexin",),
        leads=True,
    ),
    Case(
        "credit-need-refused-by-mortgage-only",
        "小型企业只要信用贷款：仅接受房产抵押的产品不符合，近似推荐写明“提供房产抵押”",
        DYER,
        Need(300, 12, "working_capital", ("none",)),
        eligible=("xixindai", "ccb-wx-xiaowei-credit"),
        not_eligible=("spdb-wx-mortgage", "cmbc-wx-mortgage"),
        near_miss=(("spdb-wx-mortgage", "提供房产抵押"),),
        leads=True,
    ),
    Case(
        "gov-guarantee-counts",
        "政府性融资担保公司提供担保：保证类产品、政府性融资担保贷都可贷",
        DYER,
        Need(500, 12, "working_capital", ("gov_guarantee",)),
        eligible=("ceb-wx-gov-guarantee", "xixindai"),
        leads=True,
    ),
    Case(
        "plain-guarantee-is-not-gov",
        "普通保证担保不能满足政府性融资担保贷，近似推荐要求提供政府性融资担保",
        DYER,
        Need(500, 12, "working_capital", ("guarantee",)),
        not_eligible=("ceb-wx-gov-guarantee",),
        near_miss=(("ceb-wx-gov-guarantee", "政府性融资担保"),),
        eligible=("xixindai",),
    ),
    Case(
        "receivables-offered",
        "制造企业有核心企业确权的应收账款：应收账款融资可贷",
        DYER,
        Need(800, 6, "working_capital", ("receivables",)),
        eligible=("cmb-wx-receivables",),
    ),
    # --- purposes: a small tree -----------------------------------------------------------
    Case(
        "smart-line-as-equipment",
        "智能化产线（设备购置）：设备按揭贷、制造业中长期贷款都可贷",
        ZJTX_MAKER,
        Need(2000, 36, "equipment", ("equipment", "property")),
        eligible=("hxb-wx-equipment", "abc-wx-zhizao-zcq", "zhuanjingtexin"),
    ),
    Case(
        "smart-line-as-tech-transformation",
        "智能化改造（技术改造）：制造业技改贷、中长期贷款、设备按揭贷都可贷",
        ZJTX_MAKER,
        Need(2000, 36, "tech_transformation", ("equipment", "property")),
        eligible=("icbc-wx-jigaidai", "abc-wx-zhizao-zcq", "hxb-wx-equipment"),
    ),
    Case(
        "whole-project-not-an-equipment-loan",
        "整体项目建设（固定资产）：中长期贷款可贷；设备按揭贷只做设备，近似推荐提示用途",
        ZJTX_MAKER,
        Need(2500, 48, "project", ("equipment", "property")),
        eligible=("abc-wx-zhizao-zcq",),
        not_eligible=("hxb-wx-equipment",),
        near_miss=(("hxb-wx-equipment", "设备购置"),),
    ),
    Case(
        "rnd-need",
        "研发投入：锡科贷可贷；制造业中长期贷款不做研发",
        IC_DESIGN,
        Need(500, 12, "rnd", ("none",)),
        eligible=("xikedai",),
        not_eligible=("abc-wx-zhizao-zcq",),
        top3=("xikedai",),
    ),
    Case(
        "trade-finance",
        "贸易融资：供应链产品可贷，纯流动资金信用贷不做贸易",
        DYER,
        Need(500, 6, "trade", ("receivables",)),
        eligible=("cmb-wx-receivables",),
        not_eligible=("ccb-wx-xiaowei-credit",),
    ),
    # --- policy products first ------------------------------------------------------------
    Case(
        "zjtx-working-capital-policy-first",
        "专精特新企业流动资金 800 万：专精特新贷、锡信贷等政策产品排在前三",
        ZJTX_MAKER,
        Need(800, 12, "working_capital", ("none",)),
        eligible=("zhuanjingtexin", "xixindai"),
        top3=("zhuanjingtexin",),
        not_top3=("own",),
    ),
    Case(
        "tech-sme-policy-first",
        "高新技术小企业流动资金 300 万：锡科贷排前三",
        IC_DESIGN,
        Need(300, 12, "working_capital", ("none",)),
        eligible=("xikedai", "xixindai"),
        top3=("xikedai",),
        not_top3=("own",),
    ),
    Case(
        "zjtx-profile-policy-first",
        "专精特新企业（无具体需求）：专精特新贷排前三",
        ZJTX_MAKER,
        eligible=("zhuanjingtexin",),
        top3=("zhuanjingtexin",),
    ),
    Case(
        "xixindai-for-no-collateral",
        "无抵押物的小企业：锡信贷（信保基金）排前三",
        DYER,
        Need(300, 12, "working_capital", ("none",)),
        top3=("xixindai",),
    ),
    Case(
        "policy-not-forced-when-clearly-worse",
        "需求 12 个月以上的设备购置：政策产品期限不符，不得硬排进来",
        DYER,
        Need(1000, 36, "equipment", ("equipment",)),
        not_eligible=("xikedai", "xixindai"),
        eligible=("hxb-wx-equipment",),
    ),
    # --- service area and regions ---------------------------------------------------------
    Case(
        "shanghai-trader",
        "上海注册的贸易公司：不推荐产品、不推送银行，并说明原因",
        SHANGHAI_TRADER,
        Need(1000, 12, "trade", ("receivables",)),
        not_eligible=("cmb-wx-receivables", "czb-wx-receivables-pool", "sukedai"),
        not_near_miss=("cmb-wx-receivables", "sukedai"),
        leads=False,
        notice="不在本平台服务区域",
    ),
    Case(
        "shanghai-profile",
        "上海注册企业按画像也无推荐",
        SHANGHAI_TRADER,
        leads=False,
        notice="服务区域",
    ),
    Case(
        "jiangyin-own-county",
        "江阴企业：江阴农商行产品可贷",
        JIANGYIN_PARTS,
        Need(500, 12, "working_capital", ("property",)),
        eligible=("jyrcb-mortgage",),
    ),
    Case(
        "xinwu-not-jiangyin",
        "新吴区企业：江阴、宜兴本地产品不可贷，也不作为近似推荐",
        DYER,
        Need(300, 12, "working_capital", ("property",)),
        not_eligible=("jyrcb-mortgage", "jyrcb-xiaowei-credit", "yxrcb-eco-credit"),
        not_near_miss=("jyrcb-mortgage", "jyrcb-xiaowei-credit", "yxrcb-eco-credit"),
    ),
    Case(
        "yixing-eco",
        "宜兴环保小微企业：宜兴农商行环保产业贷可贷",
        YIXING_ECO,
        Need(200, 12, "working_capital", ("none",)),
        eligible=("yxrcb-eco-credit",),
    ),
    Case(
        "sukedai-jiangsu",
        "无锡高新技术企业营收 4500 万：苏科贷可贷（江苏注册）",
        IC_DESIGN,
        Need(300, 12, "working_capital", ("none",)),
        eligible=("jsbank-wx-sukedai-first",),
    ),
    # --- the bridge fund ------------------------------------------------------------------
    Case(
        "bridge-without-maturing-loan",
        "没有临近到期贷款的企业：不推荐转贷应急资金，也不作为近似推荐",
        DYER,
        Need(500, 1, "renewal", ("none",)),
        not_eligible=("bridge_fund",),
        not_near_miss=("bridge_fund",),
    ),
    Case(
        "bridge-profile-without-loan",
        "无需求、无到期贷款：画像推荐不含转贷应急资金",
        ZJTX_MAKER,
        not_eligible=("bridge_fund",),
        not_near_miss=("bridge_fund",),
    ),
    Case(
        "bridge-maturing-not-committed",
        "贷款临近到期但银行尚未承诺续贷：转贷应急资金只作近似推荐，写明需银行承诺续贷",
        Firm("C3424", 150, 9_000, 7_000, cluster="hi_equip", bridge="maturing"),
        Need(900, 1, "bridge", ("none",)),
        not_eligible=("bridge_fund",),
        near_miss=(("bridge_fund", "承诺续贷"),),
    ),
    Case(
        "bridge-committed",
        "合作银行已承诺续贷、贷款 20 天后到期：转贷应急资金可用，且排第一",
        Firm("C3424", 150, 9_000, 7_000, cluster="hi_equip", bridge="committed"),
        Need(900, 1, "bridge", ("none",)),
        eligible=("bridge_fund",),
        top3=("bridge_fund",),
        leads=True,
    ),
    Case(
        "bridge-large-firm",
        "大型企业即使银行承诺续贷也不能用转贷应急资金（规模不可改变，不作近似推荐）",
        Firm("C3670", 1_500, 60_000, 80_000, cluster="auto", bridge="committed"),
        Need(900, 1, "bridge", ("none",)),
        not_eligible=("bridge_fund",),
        not_near_miss=("bridge_fund",),
    ),
    Case(
        "bridge-low-grade",
        "信用等级 C 的企业：转贷应急资金不可用，且不作近似推荐（信用等级短期不可改变）",
        Firm("C3424", 150, 9_000, 7_000, cluster="hi_equip", bridge="committed", grade="C"),
        Need(900, 1, "bridge", ("none",)),
        not_eligible=("bridge_fund",),
        not_near_miss=("bridge_fund",),
    ),
    # --- actionable near misses -----------------------------------------------------------
    Case(
        "lower-the-amount",
        "小微企业要 350 万信用贷：小微信用贷近似推荐写明“金额降至 300 万元以内”",
        Firm("C3399", 40, 2_500, 1_500, cluster="hi_equip", grade="BBB"),
        Need(350, 12, "working_capital", ("none",)),
        near_miss=(("ccb-wx-xiaowei-credit", "金额降至 300 万元以内"),),
    ),
    Case(
        "shorten-the-term",
        "流动资金要 24 个月：锡信贷近似推荐写明期限缩短至 12 个月以内",
        DYER,
        Need(300, 24, "working_capital", ("none",)),
        near_miss=(("xixindai", "期限缩短至 12 个月以内"),),
    ),
    Case(
        "srdi-obtainable",
        "创新型中小企业（尚无专精特新）：专精特新贷近似推荐写明可申报专精特新中小企业认定",
        Firm("C3489", 90, 7_000, 5_000, cluster="hi_equip", quals=(INNOVATIVE,)),
        Need(500, 12, "working_capital", ("none",)),
        near_miss=(("zhuanjingtexin", "取得江苏省专精特新中小企业认定（可申报）"),),
    ),
    Case(
        "giant-not-reachable",
        "既无创新型也无专精特新资质：专精特新贷不作近似推荐（资质无法短期取得）",
        DYER,
        Need(300, 12, "working_capital", ("none",)),
        not_near_miss=("zhuanjingtexin",),
    ),
    Case(
        "expired-high-tech",
        "高新技术企业资质已过期：点名到期日，并说明续期后可申请的产品数",
        LAPSED_HIGH_TECH,
        Need(300, 12, "working_capital", ("none",)),
        not_eligible=("xikedai",),
        near_miss=(("xikedai", "高新技术企业资质已于 2026-10-26 到期"),),
        notice="高新技术企业资质已于 2026-10-26 到期，续期后可申请",
    ),
    Case(
        "never-size-or-county",
        "中型企业：只面向小微的产品和外县产品不出现在近似推荐里",
        ZJTX_MAKER,
        Need(300, 12, "working_capital", ("none",)),
        not_near_miss=(
            "ccb-wx-xiaowei-credit",
            "psbc-wx-xiaowei-credit",
            "jyrcb-xiaowei-credit",
            "yxrcb-eco-credit",
        ),
    ),
    Case(
        "scheme-already-offered",
        "已有 4 家银行的锡科贷可贷时，不再把另一家的锡科贷列为近似推荐",
        IC_DESIGN,
        Need(800, 12, "working_capital", ("none",)),
        eligible=("xikedai",),
        not_near_miss=("xikedai",),
    ),
    Case(
        "young-firm-not-near-miss",
        "成立不满 1 年的企业：要求成立年限的产品不作近似推荐",
        Firm("I6513", 12, 200, 100, cluster="software", established="2026-06-01"),
        Need(100, 12, "working_capital", ("none",)),
        not_near_miss=("psbc-wx-xiaowei-credit", "ccb-wx-xiaowei-credit"),
    ),
    # --- industry and size in profile recommendations ------------------------------------
    Case(
        "tiny-software-profile",
        "8 人软件企业（无具体需求）：信用类政策产品在前，设备按揭贷、知识产权质押不在前三",
        TINY_SOFTWARE,
        eligible=("xikedai",),
        top3=("xikedai",),
        not_top3=("hxb-wx-equipment", "boc-wx-ip-pledge", "spdb-wx-ip-pledge"),
    ),
    Case(
        "tiny-software-no-manufacturing-loan",
        "软件企业不是制造业：制造业中长期贷款不可贷，也不作近似推荐",
        TINY_SOFTWARE,
        Need(100, 24, "working_capital", ("property",)),
        not_eligible=("abc-wx-zhizao-zcq",),
        not_near_miss=("abc-wx-zhizao-zcq",),
    ),
    Case(
        "maker-profile-equipment-suits",
        "制造企业画像推荐：设备类产品契合行业",
        ZJTX_MAKER,
        eligible=("hxb-wx-equipment", "abc-wx-zhizao-zcq"),
    ),
    Case(
        "hospital-not-classified",
        "民营医院（Q84）不在划型范围：只面向中小微的产品不可贷",
        Firm("Q8411", 300, 12_000, 20_000, cluster=None, quals=()),
        Need(300, 12, "working_capital", ("none",)),
        not_eligible=("xixindai", "ccb-wx-xiaowei-credit"),
    ),
    Case(
        "real-estate-excluded",
        "房地产开发企业：锡科贷、锡信贷等不支持房地产",
        Firm("K7010", 50, 20_000, 100_000, quals=(HIGH_TECH,)),
        Need(300, 12, "working_capital", ("none",)),
        not_eligible=("xikedai", "xixindai", "zhuanjingtexin"),
        not_near_miss=("xikedai", "xixindai"),
    ),
    # --- ownership ------------------------------------------------------------------------
    Case(
        "state-owned-still-served",
        "国有控股中型企业：产品未限定控股情况时照常推荐",
        Firm("C3424", 400, 30_000, 30_000, cluster="hi_equip", ownership="state"),
        Need(800, 12, "working_capital", ("none",)),
        eligible=("xixindai",),
    ),
    Case(
        "unknown-ownership-served",
        "控股情况未登记：不影响未限定控股情况的产品",
        Firm("C3424", 400, 30_000, 30_000, cluster="hi_equip", ownership=None),
        Need(800, 12, "working_capital", ("none",)),
        eligible=("xixindai",),
    ),
    # --- leads ----------------------------------------------------------------------------
    Case(
        "nothing-fits-no-leads",
        "大型企业要 5 亿、期限 10 年：没有产品符合，不生成线索",
        Firm("C3670", 2_000, 500_000, 600_000, cluster="auto"),
        Need(50_000, 120, "project", ("property",)),
        not_near_miss=("abc-wx-zhizao-zcq",),  # 5亿 → 5000万 is no near miss
        leads=False,
    ),
    Case(
        "micro-firm-leads",
        "微型企业 50 万流动资金：有产品符合，生成线索",
        Firm("C3399", 8, 250, 100, cluster="hi_equip", grade="BBB", established="2018-01-01"),
        Need(50, 12, "working_capital", ("none",)),
        eligible=("psbc-wx-xiaowei-credit",),
        leads=True,
    ),
]
