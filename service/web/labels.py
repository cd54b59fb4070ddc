"""Chinese labels of the codes the pages show."""

from service.leads.states import DECLINE_REASON_LABEL, STATUS_LABEL
from service.loans.renewal import CASE_LABEL
from service.matching.defaults import DEFAULT_PURPOSES
from service.matching.texts import COLLATERAL_LABEL, SCHEME_LABEL
from service.taxonomy.sizing import SIZE_LABEL

PURPOSE_LABEL = {code: name for code, (name, _) in DEFAULT_PURPOSES.items()}
NEED_STATUS_LABEL = {
    "open": "待对接",
    "matched": "已推送银行",
    "fulfilled": "已满足",
    "withdrawn": "已撤回",
    "expired": "已过期",
}
LOAN_STATUS_LABEL = {"active": "在贷", "repaid": "已还清", "renewed": "已续贷"}
LOAN_KIND_LABEL = {"working_capital": "流动资金贷款", "project": "项目贷款"}
PRODUCT_CATEGORY_LABEL = {
    "credit": "信用贷款",
    "guaranteed": "保证/担保贷款",
    "mortgage_pledge": "抵押/质押贷款",
    "ip_pledge": "知识产权质押贷款",
    "equipment": "设备/技改贷款",
    "supply_chain": "供应链融资",
    "risk_compensation": "风险补偿资金池贷款",
    "bridge_fund": "转贷应急资金",
}
BRIDGE_STATUS_LABEL = {
    "submitted": "已提交，待审核",
    "approved": "已批准",
    "disbursed": "已放款",
    "repaid": "已归还",
    "rejected": "未批准",
    "cancelled": "已取消",
}
MATCH_LABEL = {
    "code": "按信用代码",
    "auto": "自动匹配",
    "review": "待审核",
    "new": "拟新增",
    "invalid": "无效",
}
IMPORT_STATUS_LABEL = {"preview": "预览中", "committed": "已提交"}
DECISION_LABEL = {"confirmed": "已确认", "rejected": "已驳回", "created": "已新建"}
ROLE_LABEL = {"office": "金融办", "bank": "银行", "enterprise": "企业"}
BANK_OUTCOMES = ["viewed", "contacted", "approved", "disbursed", "declined"]
# The library's fields, as a page names them when it says which tier each is in.
ENTERPRISE_FIELD_LABEL = {
    "id": "企业编号",
    "credit_code": "统一社会信用代码",
    "name": "企业名称",
    "district_code": "所属地区",
    "cluster_code": "产业集群",
    "chain_tag": "产业链",
    "industry_code": "行业",
    "ownership": "控股情况",
    "established_date": "成立日期",
    "registered_in_wuxi": "是否在无锡注册",
    "size_class": "企业规模",
    "qualifications": "资质（名单及日期）",
    "employees": "从业人员",
    "revenue_fen": "营业收入",
    "total_assets_fen": "资产总额",
    "credit_grade": "信用等级",
    "contacts": "联系人",
    "needs": "融资需求",
}
PROJECT_FIELD_LABEL = {
    "id": "项目编号",
    "enterprise_id": "企业编号",
    "enterprise_name": "项目单位",
    "name": "项目名称",
    "year": "年度",
    "total_investment_fen": "总投资",
    "cluster_code": "产业集群",
    "listed_in": "所属重点项目名单",
    "kind": "项目类型",
    "status": "状态",
    "equipment_investment_fen": "设备投资",
    "financing_need_fen": "融资需求金额",
    "description": "项目简介",
}

LABELS = {
    "lead": {str(k): v for k, v in STATUS_LABEL.items()},
    "decline": {str(k): v for k, v in DECLINE_REASON_LABEL.items()},
    "case": {str(k): v for k, v in CASE_LABEL.items()},
    "collateral": {"none": "无（信用贷款）", **{str(k): v for k, v in COLLATERAL_LABEL.items()}},
    "size": SIZE_LABEL,
    "purpose": PURPOSE_LABEL,
    "scheme": SCHEME_LABEL,
    "need": NEED_STATUS_LABEL,
    "loan": LOAN_STATUS_LABEL,
    "loan_kind": LOAN_KIND_LABEL,
    "category": PRODUCT_CATEGORY_LABEL,
    "bridge": BRIDGE_STATUS_LABEL,
    "match": MATCH_LABEL,
    "decision": DECISION_LABEL,
    "import": IMPORT_STATUS_LABEL,
    "role": ROLE_LABEL,
    "enterprise_field": ENTERPRISE_FIELD_LABEL,
    "project_field": PROJECT_FIELD_LABEL,
}


def label(kind: str, code: object) -> str:
    if code is None:
        return "—"
    return LABELS.get(kind, {}).get(str(code), str(code))
