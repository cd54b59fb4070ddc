"""Reading a posted form into typed values, with a message per field a person understands.
Pure: no session, no request."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from pydantic import ValidationError

from service.core.errors import AppError

MAX_AMOUNT_WAN = Decimal(100_000_000)  # 1万亿: above anything a lead can be
T = TypeVar("T")


@dataclass
class FormReader:
    fields: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)
    status: int = 422  # of the page that shows the form again with its messages
    renamed: dict[str, str] = field(default_factory=dict)  # a use case's field → the form's

    def run(self, action: Callable[[], T], undo: Callable[[], None]) -> T | None:
        """The use case, once the form itself reads well. Its refusal goes beside the field it
        names, ``undo`` drops what the transaction had begun, and the result is None; a
        missing object (404) is not the form's fault and is raised on."""
        if self.errors:
            return None
        try:
            return action()
        except ValidationError as exc:
            self.absorb_validation(exc)
        except AppError as exc:
            undo()
            if exc.status == 404:
                raise
            self.absorb(exc)
            self.status = exc.status
        return None

    def raw(self, name: str) -> str:
        value = self.fields.get(name, "")
        if isinstance(value, list):
            value = value[0] if value else ""
        return str(value).strip()

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(self.renamed.get(name, name), message)

    def text(self, name: str, max_length: int, required: bool = False) -> str | None:
        value = self.raw(name)
        if not value:
            if required:
                self.fail(name, "请填写此项。")
            return None
        if len(value) > max_length:
            self.fail(name, f"最多 {max_length} 个字。")
            return None
        return value

    def integer(self, name: str, low: int, high: int, required: bool = False) -> int | None:
        value = self.raw(name)
        if not value:
            if required:
                self.fail(name, "请填写此项。")
            return None
        try:
            number = int(value)
        except ValueError:
            self.fail(name, "请填写整数。")
            return None
        if not low <= number <= high:
            self.fail(name, f"应在 {low} 到 {high} 之间。")
            return None
        return number

    def wan_to_fen(self, name: str, required: bool = False) -> int | None:
        """An amount typed in 万元 (up to 6 decimals: the fen) as integer fen."""
        value = self.raw(name).replace(",", "").replace("，", "")
        if not value:
            if required:
                self.fail(name, "请填写金额（万元）。")
            return None
        try:
            amount = Decimal(value)
        except InvalidOperation:
            self.fail(name, "请填写数字，单位万元，例如 300 或 52.5。")
            return None
        if not amount.is_finite() or amount <= 0:
            self.fail(name, "金额应大于 0。")
            return None
        if amount > MAX_AMOUNT_WAN:
            self.fail(name, "金额过大，请确认单位是万元。")
            return None
        fen = amount * 1_000_000
        if fen != fen.to_integral_value():
            self.fail(name, "金额最多精确到分（万元后 6 位小数）。")
            return None
        return int(fen)

    def percent_to_bp(self, name: str, required: bool = False) -> int | None:
        """An annual rate typed in % (e.g. 3.45) as basis points."""
        value = self.raw(name).removesuffix("%")
        if not value:
            if required:
                self.fail(name, "请填写年利率（%）。")
            return None
        try:
            rate = Decimal(value)
        except InvalidOperation:
            self.fail(name, "请填写数字，单位 %，例如 3.45。")
            return None
        if not rate.is_finite() or not Decimal(0) < rate < Decimal(100):
            self.fail(name, "年利率应在 0% 到 100% 之间。")
            return None
        bp = rate * 100
        if bp != bp.to_integral_value():
            self.fail(name, "年利率最多两位小数（1 个基点）。")
            return None
        return int(bp)

    def day(self, name: str, required: bool = False) -> date | None:
        value = self.raw(name)
        if not value:
            if required:
                self.fail(name, "请选择日期。")
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(name, "日期格式应为 2026-12-31。")
            return None

    def choice(self, name: str, options: Iterable[str], required: bool = False) -> str | None:
        value = self.raw(name)
        if not value:
            if required:
                self.fail(name, "请选择一项。")
            return None
        if value not in set(options):
            self.fail(name, "请从列表中选择。")
            return None
        return value

    def choices(self, name: str, options: Iterable[str]) -> list[str]:
        value = self.fields.get(name, [])
        values = [value] if isinstance(value, str) else list(value)
        allowed = set(options)
        picked = [v for v in values if v]
        if any(v not in allowed for v in picked):
            self.fail(name, "请从列表中选择。")
            return []
        return picked

    def checked(self, name: str) -> bool:
        return self.raw(name) in ("on", "true", "1", "yes")

    def absorb(self, exc: AppError, default: str = "_form") -> None:
        """A use case's refusal, beside the field it names (else at the top of the form)."""
        self.fail(str(exc.extra.get("field") or default), exc.detail)

    def absorb_validation(self, exc: ValidationError, default: str = "_form") -> None:
        for error in exc.errors():
            name = str(error["loc"][0]) if error.get("loc") else default
            message = str(error.get("msg", "取值无效。")).removeprefix("Value error, ")
            self.fail(name, message)
