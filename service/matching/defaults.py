"""What a scoring configuration falls back to where it says nothing: the purpose tree, the
city's policy schemes, region names, the qualifications an enterprise can obtain soon (each
with what it must hold first) and the factor weights. Pure data; ``scoring.ScoringConfig`` and
the stored configuration's shape (``schemas.ScoringSettings``) take their defaults from here."""

# The purpose tree of the configuration when it names none: code → (name, parent).
DEFAULT_PURPOSES: dict[str, tuple[str, str | None]] = {
    "project": ("固定资产投资/项目建设", None),
    "equipment": ("设备购置", "project"),
    "tech_transformation": ("技术改造", "project"),
    "working_capital": ("流动资金", None),
    "rnd": ("研发投入", None),
    "trade": ("贸易融资", None),
    "renewal": ("续贷", None),
    "bridge": ("转贷（到期还贷周转）", None),
}
DEFAULT_POLICY_SCHEMES = ("bridge_fund", "xikedai", "xixindai", "zhuanjingtexin")
DEFAULT_REGIONS = {
    "32": "江苏省",
    "3202": "无锡市",
    "320281": "江阴市",
    "320282": "宜兴市",
}
# Qualifications an enterprise can apply for soon, each with what it must hold first
# (优质中小企业梯度培育: 创新型 → 专精特新 → 小巨人). Those not listed (单项冠军, 准独角兽,
# key-project units: market leadership, a valuation, a place on a yearly project list) are
# not reachable soon, except by renewing one the enterprise held.
DEFAULT_OBTAINABLE: dict[str, tuple[str, ...]] = {
    "innovative_sme": (),
    "srdi_sme": ("innovative_sme",),
    "little_giant": ("srdi_sme",),
    "high_tech": (),
    "tech_sme": (),
    "eaglet": (),
    "gazelle": (),
    "tech_center": (),
    "green_factory_provincial": (),
    "green_factory_national": (),
}
DEFAULT_WEIGHTS = {
    "sector": 20,
    "industry": 10,
    "size": 10,
    "need": 20,
    "qualification": 10,
    "cost": 10,
    "policy": 20,
}
