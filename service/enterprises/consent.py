"""An enterprise's consent to share its private facts with banks, as its columns record it.

The rule of who may record which choice, and when a signed 入库申报 form gives way to the
enterprise's own later choice, is ``access.policy.record_consent``; here are the columns that
hold the result (``CONSENT_COLUMNS``), read as a ``Consent`` and written back, for the API's
use cases and for the library import alike, and the API's answer about it. Pure: no I/O."""

from collections.abc import Mapping
from datetime import date
from typing import Any

from service.access.policy import Consent, Principal, record_consent
from service.core.models import row_dict, utcnow
from service.enterprises.exceptions import InvalidEnterprise
from service.enterprises.models import Enterprise
from service.enterprises.schemas import ConsentPublic

CONSENT_COLUMNS = (
    "share_with_banks",
    "consent_source",
    "consent_recorded_by",
    "consent_recorded_at",
    "consent_form_ref",
    "consent_form_signed_on",
)


def consent_of(columns: Mapping[str, Any]) -> Consent:
    """The consent an enterprise's row records."""
    return Consent(
        given=bool(columns.get("share_with_banks")),
        source=columns.get("consent_source"),
        recorded_by=columns.get("consent_recorded_by"),
        recorded_at=columns.get("consent_recorded_at"),
        form_ref=columns.get("consent_form_ref"),
        form_signed_on=columns.get("consent_form_signed_on"),
    )


def consent_columns(consent: Consent) -> dict[str, Any]:
    """The row's columns that record the consent."""
    return {
        "share_with_banks": consent.given,
        "consent_source": consent.source,
        "consent_recorded_by": consent.recorded_by,
        "consent_recorded_at": consent.recorded_at,
        "consent_form_ref": consent.form_ref,
        "consent_form_signed_on": consent.form_signed_on,
    }


def apply_consent(
    enterprise: Enterprise,
    principal: Principal,
    given: bool | None,
    form_ref: str | None,
    form_signed_on: date | None,
) -> None:
    """Record the caller's choice for the enterprise (``access.policy.record_consent``); no
    choice (``given`` None) changes nothing, and a form's reference without a choice is
    refused."""
    if given is None:
        if form_ref is not None or form_signed_on is not None:
            raise InvalidEnterprise(
                "填写申报表编号时，请同时说明企业是否同意向银行共享信息（share_with_banks）。",
                code="consent_choice_required",
                field="share_with_banks",
            )
        return
    form_ref = form_ref.strip() if form_ref else None
    current = consent_of(row_dict(enterprise))
    after = record_consent(principal, current, given, form_ref or None, form_signed_on, utcnow())
    for name, value in consent_columns(after).items():
        setattr(enterprise, name, value)


def consent_public(enterprise: Enterprise) -> ConsentPublic:
    return ConsentPublic(
        given=enterprise.share_with_banks,
        source=enterprise.consent_source,
        recorded_by=enterprise.consent_recorded_by,
        recorded_at=enterprise.consent_recorded_at,
        form_ref=enterprise.consent_form_ref,
        form_signed_on=enterprise.consent_form_signed_on,
    )
