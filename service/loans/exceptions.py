"""Expected failures of the loans use cases and of the renewal rules."""

from service.core.errors import Conflict, NotFound, Unprocessable


class LoanNotFound(NotFound):
    code = "loan_not_found"


class BridgeApplicationNotFound(NotFound):
    code = "bridge_application_not_found"


class LoanExists(Conflict):
    code = "duplicate_contract_no"


class InvalidLoan(Unprocessable):
    code = "invalid_loan"


class InvalidRenewalChange(Unprocessable):
    code = "invalid_renewal_change"


class BridgeNotEligible(Unprocessable):
    code = "bridge_not_eligible"


class InvalidBridgeDate(Unprocessable):
    code = "invalid_bridge_date"


class ImportFileInvalid(Unprocessable):
    code = "invalid_import_file"


class BridgeTransitionNotAllowed(Conflict):
    code = "transition_not_allowed"


class CaseTransitionNotAllowed(Conflict):
    """A renewal case may not move to the status asked for; the renewal rules
    (``renewal.py``) word the refusal and list where the case may go."""

    code = "transition_not_allowed"
