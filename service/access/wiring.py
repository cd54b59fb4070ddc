"""The audit hook: each domain names its audited models in its own ``wiring.py``
(``audit.audit``); this installs the one flush hook that records them, and audits the keys,
people's accounts and invitations."""

from service.access import audit
from service.access.models import ApiKey, Invitation, UserAccount


def connect() -> None:
    audit.audit(ApiKey, "api_key")
    audit.audit(UserAccount, "user")
    audit.audit(Invitation, "invitation")
    audit.install()
