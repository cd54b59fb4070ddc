"""The consent rule (access.policy.record_consent): who may record an enterprise's choice about
sharing its private facts with banks, from what, and which choice wins. Labelled cases, as a
credit officer and the financial office would judge them."""

from datetime import UTC, date, datetime

import pytest

from service.access.models import Role
from service.access.policy import Consent, Principal, record_consent
from service.core.errors import AppError

OFFICE = Principal(Role.office, key_id=1)
FIRM = Principal(Role.enterprise, key_id=2, enterprise_id=7)
BANK = Principal(Role.bank, key_id=3, bank_code="jsbank-wx")
NOW = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)  # 10:00 in Wuxi
NEVER = Consent()


def _by_firm(given: bool, on: datetime) -> Consent:
    return Consent(given, "enterprise", "enterprise:7", on)


def _by_form(given: bool, ref: str, signed: date) -> Consent:
    return Consent(given, "office_form", "key:1", NOW, ref, signed)


def test_the_enterprise_decides_for_itself_at_any_time() -> None:
    given = record_consent(FIRM, _by_form(False, "F-1", date(2026, 12, 1)), True, None, None, NOW)
    assert (given.given, given.source, given.recorded_by) == (True, "enterprise", "key:2")
    assert given.form_ref is None and given.recorded_at == NOW


def test_the_office_records_consent_from_a_signed_form() -> None:
    given = record_consent(OFFICE, NEVER, True, "锡金融入库〔2026〕0123号", date(2026, 11, 20), NOW)
    assert given == Consent(
        True, "office_form", "key:1", NOW, "锡金融入库〔2026〕0123号", date(2026, 11, 20)
    )


@pytest.mark.parametrize(
    "ref, signed, code",
    [
        (None, date(2026, 11, 20), "consent_form_required"),  # no form: nothing to rely on
        ("F-1", None, "consent_form_required"),  # a form without its date cannot be weighed
        ("F-1", date(2026, 12, 4), "invalid_consent_form_date"),  # signed tomorrow
    ],
)
def test_the_office_needs_the_form_and_its_date(ref, signed, code) -> None:
    with pytest.raises(AppError) as caught:
        record_consent(OFFICE, NEVER, True, ref, signed, NOW)
    assert caught.value.code == code and caught.value.status == 422


def test_a_form_does_not_override_the_enterprises_own_later_choice() -> None:
    # The enterprise withdrew on its pages on 1 December; a form signed in November is older.
    withdrawn = _by_firm(False, datetime(2026, 12, 1, 3, 0, tzinfo=UTC))
    with pytest.raises(AppError) as caught:
        record_consent(OFFICE, withdrawn, True, "F-1", date(2026, 11, 20), NOW)
    assert caught.value.code == "consent_decided_by_enterprise" and caught.value.status == 409
    # on the same day the enterprise's own choice still wins
    with pytest.raises(AppError):
        record_consent(OFFICE, withdrawn, True, "F-1", date(2026, 12, 1), NOW)


def test_a_form_signed_after_the_enterprises_choice_is_recorded() -> None:
    # It changed its mind and signed a new form on 2 December.
    withdrawn = _by_firm(False, datetime(2026, 12, 1, 3, 0, tzinfo=UTC))
    given = record_consent(OFFICE, withdrawn, True, "F-2", date(2026, 12, 2), NOW)
    assert given.given and given.source == "office_form" and given.form_ref == "F-2"


def test_a_form_that_agrees_with_the_enterprises_choice_changes_nothing() -> None:
    shared = _by_firm(True, datetime(2026, 12, 1, 3, 0, tzinfo=UTC))
    assert record_consent(OFFICE, shared, True, "F-1", date(2026, 11, 20), NOW) is shared


def test_an_older_form_does_not_replace_a_newer_one() -> None:
    recorded = _by_form(False, "F-2", date(2026, 11, 25))
    with pytest.raises(AppError) as caught:
        record_consent(OFFICE, recorded, True, "F-1", date(2026, 11, 20), NOW)
    assert caught.value.code == "consent_form_superseded"


def test_recording_the_same_form_again_changes_nothing() -> None:
    recorded = _by_form(True, "F-1", date(2026, 11, 20))
    assert record_consent(OFFICE, recorded, True, "F-1", date(2026, 11, 20), NOW) is recorded


def test_the_enterprise_does_not_send_a_form_and_a_bank_records_nothing() -> None:
    with pytest.raises(AppError) as caught:
        record_consent(FIRM, NEVER, True, "F-1", date(2026, 11, 20), NOW)
    assert caught.value.status == 403
    with pytest.raises(AppError) as caught:
        record_consent(BANK, NEVER, True, "F-1", date(2026, 11, 20), NOW)
    assert caught.value.status == 403
