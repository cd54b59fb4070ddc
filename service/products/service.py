"""Use cases of the bank and product catalogue. Changing a product's content makes a new
version; older versions stay readable.

Who may write: the office adds and changes banks; a product is written by the office or by
its own bank (``access.policy.check_manages_bank``). Reading the catalogue is public. A
product's content is checked here against the reference data and itself (``_check_spec``)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import ColumnElement
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from service.access.audit import SYSTEM
from service.access.models import Role
from service.access.policy import Principal, check_manages_bank, require
from service.core.concurrency import PreconditionFailed, check_version
from service.core.database import ROW_LOCK
from service.core.errors import Unprocessable
from service.core.events import emit
from service.core.models import refuse_nulls, utcnow
from service.core.pagination import Page, PageParams, cursor_key, make_page
from service.products import queries
from service.products.exceptions import (
    BankNotFound,
    DuplicateBank,
    DuplicateProduct,
    InvalidProduct,
    ProductNotFound,
)
from service.products.models import (
    Bank,
    Eligibility,
    Fee,
    Product,
    ProductSpec,
    ProductStatus,
    ProductVersion,
    RateSpec,
)
from service.products.schemas import (
    BankCreate,
    BankPublic,
    BankUpdate,
    ProductCreate,
    ProductPublic,
    ProductUpdate,
)
from service.taxonomy.grades import CREDIT_GRADES, normalize_grade
from service.taxonomy.industry import IndustryCodeError, normalize_industry_code
from service.taxonomy.models import SizeClass, Tier
from service.taxonomy.service import Vocabulary
from service.taxonomy.suggest import closest

SPEC_FIELDS = tuple(ProductSpec.model_fields)

# --- banks --------------------------------------------------------------------------------


def get_bank(session: Session, code: str, for_update: bool = False) -> Bank:
    bank = session.get(
        Bank, code, with_for_update=ROW_LOCK if for_update else None, populate_existing=for_update
    )
    if bank is None:
        raise BankNotFound(f"银行 {code} 不存在。")
    return bank


def list_banks(session: Session, page: PageParams, kind: str | None = None) -> Page[BankPublic]:
    key = cursor_key(page, 1, (str,))
    rows = queries.bank_page(session, key[0] if key else None, page.limit, kind)
    result = make_page(rows, page.limit, lambda b: [b.code])
    result.items = [BankPublic.model_validate(b, from_attributes=True) for b in result.items]
    return result


def create_bank(session: Session, data: BankCreate, principal: Principal = SYSTEM) -> Bank:
    require(principal, Role.office)
    if session.get(Bank, data.code) is not None:
        raise DuplicateBank(f"银行代码 {data.code} 已存在。")
    bank = Bank(**data.model_dump())
    session.add(bank)
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise DuplicateBank(f"银行代码 {data.code} 已存在。") from exc
    session.refresh(bank)
    return bank


def update_bank(session: Session, code: str, data: BankUpdate, principal: Principal) -> Bank:
    require(principal, Role.office)
    bank = get_bank(session, code, for_update=True)
    changes = data.model_dump(exclude_unset=True)
    refuse_nulls(Bank, changes)  # name, short name, kind and partnership cannot be emptied
    changed = False
    for field, value in changes.items():
        if getattr(bank, field) != value:
            setattr(bank, field, value)
            changed = True
    if changed:
        bank.updated_at = utcnow()
        session.commit()
        session.refresh(bank)
    return bank


# --- product content validation -----------------------------------------------------------


def _bank_code(session: Session, code: str) -> str:
    if session.get(Bank, code) is not None:
        return code
    suggestions = closest(code, queries.bank_names(session))
    raise InvalidProduct(
        f"未知的银行代码 '{code}'。",
        code="unknown_bank",
        field="bank_code",
        value=code,
        suggestions=suggestions,
    )


def _check_spec(session: Session, spec: dict[str, Any]) -> dict[str, Any]:
    """Validate a complete product spec against the reference data and itself; return it in
    its stored (JSON-ready) form."""
    try:  # a change merged onto the current version (e.g. a field sent as null) is checked here
        model = ProductSpec.model_validate(spec)
        eligibility = Eligibility.model_validate(spec.get("eligibility") or {})
        rate = RateSpec.model_validate(spec["rate"])
        fees = [Fee.model_validate(f) for f in spec.get("fees") or []]
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InvalidProduct(
            f"产品字段 {where} 不合法：{first['msg']}", code="invalid_product_field", field=where
        ) from exc
    data = model.model_dump()
    vocabulary = Vocabulary(session)
    vocabulary.clusters_list(eligibility.clusters_included, "eligibility.clusters_included")
    vocabulary.clusters_list(eligibility.clusters_excluded, "eligibility.clusters_excluded")
    vocabulary.districts_list(eligibility.districts, "eligibility.districts")
    vocabulary.qualifications_list(eligibility.qualifications_any, "eligibility.qualifications_any")
    vocabulary.qualifications_list(eligibility.qualifications_all, "eligibility.qualifications_all")
    for tier in eligibility.tiers:
        if tier not in Tier.__members__:
            raise InvalidProduct(
                f"未知的产业层级 '{tier}'。", code="unknown_tier", field="eligibility.tiers"
            )
    for size in eligibility.size_classes:
        if size not in SizeClass.__members__:
            raise InvalidProduct(
                f"未知的企业规模 '{size}'。",
                code="unknown_size_class",
                field="eligibility.size_classes",
            )
    if eligibility.min_credit_grade is not None:
        grade = normalize_grade(eligibility.min_credit_grade)
        if grade is None:
            raise InvalidProduct(
                f"未知的信用等级 '{eligibility.min_credit_grade}'，应为 {'、'.join(CREDIT_GRADES)} 之一。",
                code="unknown_credit_grade",
                field="eligibility.min_credit_grade",
            )
        eligibility.min_credit_grade = grade
    for field in ("industries_excluded", "industries_included", "industries_targeted"):
        for prefix in getattr(eligibility, field):
            try:
                if not (len(prefix) == 1 and "A" <= prefix <= "T"):
                    normalize_industry_code(prefix)
            except IndustryCodeError as exc:
                raise InvalidProduct(
                    str(exc), code="invalid_industry_code", field=f"eligibility.{field}"
                ) from exc
    for region in eligibility.regions:
        if not (region.isascii() and region.isdigit() and 2 <= len(region) <= 6):
            raise InvalidProduct(
                f"地区 '{region}' 应为行政区划代码的前 2–6 位数字，如 32（江苏省）、320281（江阴市）。",
                code="invalid_region",
                field="eligibility.regions",
            )
    vocabulary.ownership_list(eligibility.ownership_types, "eligibility.ownership_types")
    _ordered(eligibility.revenue_min_fen, eligibility.revenue_max_fen, "eligibility.revenue")
    _ordered(model.amount_min_fen, model.amount_max_fen, "amount")
    _ordered(model.term_min, model.term_max, "term")
    if model.effective_from and model.effective_to and model.effective_to < model.effective_from:
        raise InvalidProduct(
            "失效日期不能早于生效日期。", code="invalid_effective_dates", field="effective_to"
        )
    for i, rate_tier in enumerate(rate.tiers):
        _ordered(rate_tier.amount_min_fen, rate_tier.amount_max_fen, f"rate.tiers.{i}.amount")
        _ordered(rate_tier.term_min_months, rate_tier.term_max_months, f"rate.tiers.{i}.term")
    data["eligibility"] = eligibility.model_dump(mode="json")
    data["rate"] = rate.model_dump(mode="json")
    data["fees"] = [f.model_dump(mode="json") for f in fees]
    data["collateral_types"] = [str(c) for c in model.collateral_types]
    data["purposes"] = [str(p) for p in model.purposes]
    return data


def _ordered(low: int | None, high: int | None, field: str) -> None:
    if low is not None and high is not None and low > high:
        raise InvalidProduct(
            f"{field} 的下限 {low} 大于上限 {high}。", code="invalid_range", field=field
        )


# --- products -----------------------------------------------------------------------------


def get_product(session: Session, code: str, for_update: bool = False) -> Product:
    product = queries.product_by_code(session, code, for_update)
    if product is None:
        raise ProductNotFound(f"产品 {code} 不存在。")
    return product


def _id(product: Product) -> int:
    """The id of a product read or flushed (never None then)."""
    assert product.id is not None
    return product.id


def product_public(
    session: Session, product: Product, version: ProductVersion | None = None
) -> ProductPublic:
    version = version or queries.version_of(session, _id(product), product.current_version)
    assert version is not None
    bank = session.get(Bank, product.bank_code)
    return _public(product, version, bank.name if bank else None)


def _public(product: Product, version: ProductVersion, bank_name: str | None) -> ProductPublic:
    spec = {field: getattr(version, field) for field in SPEC_FIELDS}
    return ProductPublic.model_validate(
        {
            **spec,
            "code": product.code,
            "bank_code": product.bank_code,
            "bank_name": bank_name,
            "version": version.version,
            "current_version": product.current_version,
            "status": product.status,
            "created_at": product.created_at,
            "updated_at": product.updated_at,
            "version_created_at": version.created_at,
        }
    )


def get_product_version(session: Session, code: str, version: int) -> ProductPublic:
    product = get_product(session, code)
    row = queries.version_of(session, _id(product), version)
    if row is None:
        raise ProductNotFound(
            f"产品 {code} 没有第 {version} 版。", code="product_version_not_found"
        )
    return product_public(session, product, row)


def list_product_versions(session: Session, code: str) -> list[ProductPublic]:
    product = get_product(session, code)
    bank = session.get(Bank, product.bank_code)
    return [
        _public(product, v, bank.name if bank else None)
        for v in queries.versions_of(session, _id(product))
    ]


def create_product(session: Session, data: ProductCreate, principal: Principal = SYSTEM) -> Product:
    """Version 1 of a product, for a bank the caller manages."""
    check_manages_bank(principal, data.bank_code)
    if queries.product_by_code(session, data.code) is not None:
        raise DuplicateProduct(f"产品代码 {data.code} 已存在。")
    bank_code = _bank_code(session, data.bank_code)
    spec = _check_spec(session, {f: getattr(data, f) for f in SPEC_FIELDS})
    now = utcnow()
    product = Product(
        code=data.code,
        bank_code=bank_code,
        current_version=1,
        status=ProductStatus.active,
        created_at=now,
        updated_at=now,
    )
    session.add(product)
    try:
        session.flush()
        session.add(ProductVersion(product_id=_id(product), version=1, created_at=now, **spec))
        session.flush()
        emit(session, "product.changed", product_id=product.id)
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise DuplicateProduct(f"产品代码 {data.code} 已存在。") from exc
    session.refresh(product)
    return product


def update_product(
    session: Session,
    code: str,
    data: ProductUpdate,
    expected_version: int | None = None,
    principal: Principal = SYSTEM,
) -> Product:
    """Sent fields replace the current ones; if the content changes, a new version is made.
    Sending what is already there changes nothing. For a bank the caller manages."""
    product = get_product(session, code, for_update=True)
    check_manages_bank(principal, product.bank_code)
    check_version(expected_version, product.current_version, "产品")
    current = queries.version_of(session, _id(product), product.current_version)
    assert current is not None
    changes = data.model_dump(exclude_unset=True)
    status = changes.pop("status", None)
    for field in ("name", "category", "scheme", "rate", "term_unit", "eligibility"):
        if field in changes and changes[field] is None:
            raise InvalidProduct(f"{field} 不能为空。", code="missing_field", field=field)
    old_spec = {field: getattr(current, field) for field in SPEC_FIELDS}
    old_stored = _check_spec(session, old_spec)
    new_stored = _check_spec(session, {**old_spec, **changes})
    content_changed = new_stored != old_stored
    status_changed = status is not None and status != product.status
    if not content_changed and not status_changed:
        return product
    now = utcnow()
    new_version = product.current_version + 1 if content_changed else product.current_version
    status_now = status if status_changed else product.status
    if not queries.advance_product(session, product, new_version, status_now, now):
        session.rollback()
        raise _changed_meanwhile()
    if content_changed:
        session.add(
            ProductVersion(
                product_id=_id(product), version=new_version, created_at=now, **new_stored
            )
        )
    try:
        session.flush()
        session.expire(product)
        emit(session, "product.changed", product_id=product.id)
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise _changed_meanwhile() from exc
    session.refresh(product)
    return product


def _changed_meanwhile() -> PreconditionFailed:
    return PreconditionFailed(
        "产品刚被其他请求修改，请重新读取后再提交。", code="concurrent_update"
    )


@dataclass
class ProductFilters:
    bank: str | None = None
    scheme: str | None = None
    category: str | None = None
    status: str | None = None
    updated_since: datetime | None = None


def list_products(session: Session, f: ProductFilters, page: PageParams) -> Page[ProductPublic]:
    conditions: list[ColumnElement[bool]] = []
    if f.bank:
        conditions.append(col(Product.bank_code) == f.bank)
    if f.scheme:
        conditions.append(col(ProductVersion.scheme) == f.scheme)
    if f.category:
        conditions.append(col(ProductVersion.category) == f.category)
    if f.status:
        conditions.append(col(Product.status) == f.status)
    elif f.updated_since is None:
        conditions.append(col(Product.status) == ProductStatus.active)
    if f.updated_since is not None:
        since = f.updated_since
        if since.tzinfo is None:
            raise InvalidProduct(
                "updated_since 须带时区，如 2026-01-01T00:00:00Z。",
                code="naive_timestamp",
                field="updated_since",
            )
        conditions.append(col(Product.updated_at) > since)
    by_updated = f.updated_since is not None
    key = cursor_key(page, 2, (str, int)) if by_updated else cursor_key(page, 1, (int,))
    if key and by_updated:
        try:
            datetime.fromisoformat(key[0])
        except ValueError as exc:
            raise Unprocessable(
                "分页游标无效，请使用上一页返回的 next_cursor。", code="invalid_cursor"
            ) from exc
    rows = queries.current_page(session, conditions, by_updated, key, page.limit)
    result = make_page(
        rows,
        page.limit,
        (lambda r: [r[0].updated_at.isoformat(), r[0].id]) if by_updated else (lambda r: [r[0].id]),
    )
    result.items = [_public(p, v, bank_name) for p, v, bank_name in result.items]
    return result
