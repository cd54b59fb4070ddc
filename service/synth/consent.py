"""Consent through the 入库申报 form: the office's sign-up form for the library, on which an
enterprise says whether banks may see its private facts. The office records the choice from the
signed form (the enterprise may change it itself later).

Enterprises in the 465 clusters fill it in more often than others, and those holding 高新 or
专精特新 recognitions more often still (the office courts them for its lists, the banks for their
tech loans); firms registered outside Wuxi rarely do. Most of the rest never recorded a choice.
About 40 % share in all; a few signed forms decline. Form references follow the office's
numbering style but are made up."""

from datetime import date, timedelta
from typing import Any

FORM_SHARE = {"cluster": 0.35, "outside_clusters": 0.15}
FORM_SOUGHT_QUALIFICATIONS = frozenset({"high_tech", "srdi_sme", "little_giant", "innovative_sme"})
FORM_SOUGHT_FACTOR = 1.75
FORM_OUTSIDE_WUXI_FACTOR = 0.3
FORM_DECLINED_SHARE = 0.08  # of the signed forms: "不同意向合作银行提供"
FORM_FIRST_DAY = date(2023, 3, 1)  # the office began collecting forms
FORM_AFTER_ESTABLISHED = 60  # days: a new firm signs up at the earliest this long after it opens
FORM_REF = "锡金融入库〔{year}〕{serial:04d}号"  # the serial is unique in the library, not per year
# Who recorded a form's choice, as the create path records the office acting without a key
# (``access.audit.SYSTEM.ref``; not imported, to keep the loader's worker processes light).
FORM_RECORDED_BY = "office"


def form_consent(
    signs: float,
    declines: float,
    when: float,
    as_of: date,
    cluster: str | None,
    district: str | None,
    established: date,
    qualifications: list[dict[str, Any]],
    serial: int,
) -> dict[str, Any]:
    """The choice recorded from the enterprise's signed form (the fields of
    ``EnterpriseCreate``), or nothing when it never signed one, given three uniform draws:
    whether it signs, whether it declines, and when."""
    chance = FORM_SHARE["cluster" if cluster else "outside_clusters"]
    if any(q["type_code"] in FORM_SOUGHT_QUALIFICATIONS for q in qualifications):
        chance *= FORM_SOUGHT_FACTOR
    if district is None:
        chance *= FORM_OUTSIDE_WUXI_FACTOR
    first = max(FORM_FIRST_DAY, established + timedelta(days=FORM_AFTER_ESTABLISHED))
    last = as_of - timedelta(days=1)
    if signs >= chance or first > last:
        return {}
    # More forms lately, as the office's campaign reached more enterprises.
    signed = first + timedelta(days=int((last - first).days * when**0.7))
    return {
        "share_with_banks": declines >= FORM_DECLINED_SHARE,
        "consent_form_ref": FORM_REF.format(year=signed.year, serial=serial),
        "consent_form_signed_on": signed.isoformat(),
    }
