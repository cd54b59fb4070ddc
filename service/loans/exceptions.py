"""Expected failures of the loans use cases."""

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
