"""Unified social credit codes (统一社会信用代码, GB 32100-2015). Pure: no I/O."""

import unicodedata
from dataclasses import dataclass

from stdnum.cn import uscc
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength, ValidationError

WUXI_AREA_PREFIX = "3202"


class CreditCodeError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class CreditCode:
    value: str

    @property
    def area_code(self) -> str:
        """Positions 3–8: the registering authority's area code (GB/T 2260)."""
        return self.value[2:8]

    @property
    def registered_in_wuxi(self) -> bool:
        return self.area_code.startswith(WUXI_AREA_PREFIX)


def parse_credit_code(raw: str) -> CreditCode:
    """Validate with python-stdnum; raise CreditCodeError with a reason a person understands."""
    try:
        value = uscc.validate(unicodedata.normalize("NFKC", raw))
    except InvalidLength as exc:
        raise CreditCodeError("invalid_credit_code_length", "统一社会信用代码应为 18 位。") from exc
    except InvalidFormat as exc:
        raise CreditCodeError(
            "invalid_credit_code_format",
            "统一社会信用代码格式不对：前 8 位应为数字，其余为数字或除 I、O、Z、S、V 外的大写字母。",
        ) from exc
    except InvalidChecksum as exc:
        raise CreditCodeError(
            "invalid_credit_code_checksum", "统一社会信用代码校验位不符，请核对是否抄错。"
        ) from exc
    except ValidationError as exc:  # pragma: no cover - stdnum's other failures
        raise CreditCodeError("invalid_credit_code", "统一社会信用代码无效。") from exc
    return CreditCode(value)


def with_check_character(first17: str) -> str:
    """Complete 17 characters with their check character (for synthetic data)."""
    return first17 + uscc.calc_check_digit(first17)
