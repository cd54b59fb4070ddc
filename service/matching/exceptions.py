"""Errors of matching: a need or a configuration version not found, a need closed or invalid,
an invalid configuration; and ConfigMissing, a database never seeded with one."""

from service.core.errors import Conflict, NotFound, Unprocessable


class NeedNotFound(NotFound):
    code = "need_not_found"


class NeedClosed(Conflict):
    code = "need_closed"


class InvalidNeed(Unprocessable):
    code = "invalid_need"


class InvalidScoringConfig(Unprocessable):
    code = "invalid_scoring_config"


class ScoringConfigNotFound(NotFound):
    code = "scoring_config_not_found"


class ConfigMissing(RuntimeError):
    """No scoring configuration at all: the database was never seeded (`finmatch seed`)."""
