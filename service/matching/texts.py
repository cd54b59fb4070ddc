"""How the scoring words its reasons and remedies: the Chinese labels of cluster tiers, schemes,
GB/T 4754 sections and collateral, and how an amount (万元), an industry scope and a term unit
are written. (Size classes are named by ``taxonomy.sizing.SIZE_LABEL``.) Pure data and
formatting; the rules that use them are in ``scoring`` (gates) and ``factors``."""

from service.taxonomy.sizing import FEN_PER_WAN

TIER_LABEL = {"landmark": "地标产业", "advantage": "优势产业", "future": "未来产业"}
SCHEME_LABEL = {
    "bridge_fund": "转贷应急资金",
    "xikedai": "锡科贷",
    "xixindai": "锡信贷",
    "zhuanjingtexin": "专精特新贷",
    "sukedai": "苏科贷",
    "own": "银行自营产品",
}
SECTION_LABEL = {
    "A": "农林牧渔业",
    "B": "采矿业",
    "C": "制造业",
    "D": "电力热力燃气及水生产和供应业",
    "E": "建筑业",
    "F": "批发和零售业",
    "G": "交通运输仓储和邮政业",
    "H": "住宿和餐饮业",
    "I": "信息传输、软件和信息技术服务业",
    "J": "金融业",
    "K": "房地产业",
    "L": "租赁和商务服务业",
    "M": "科学研究和技术服务业",
    "N": "水利环境和公共设施管理业",
    "O": "居民服务、修理和其他服务业",
    "P": "教育",
    "Q": "卫生和社会工作",
    "R": "文化体育和娱乐业",
    "S": "公共管理、社会保障和社会组织",
}
COLLATERAL_LABEL = {
    "none": "信用（无担保）",
    "guarantee": "保证担保",
    "gov_guarantee": "政府性融资担保",
    "property": "房产抵押",
    "equipment": "设备抵押",
    "ip": "知识产权质押",
    "receivables": "应收账款质押",
}


def wan(fen: int) -> str:
    wan = fen / FEN_PER_WAN
    return f"{wan:,.0f} 万元" if wan == int(wan) else f"{wan:,.2f} 万元"


def industry_scope(scope: str) -> str:
    """A section letter by its name, a division or finer code as such."""
    if len(scope) == 1 and scope.isalpha():
        return SECTION_LABEL.get(scope, scope)
    return f"行业 {scope}"


def term_unit(unit: str) -> str:
    """How a product's term unit follows a number."""
    return " 天" if unit == "day" else " 个月"
