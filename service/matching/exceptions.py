"""Errors of matching."""

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
