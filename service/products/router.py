"""HTTP for banks and the product catalogue. Reading is public (no key); who may write is
decided by the use cases (``service``)."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Response, status
from sqlmodel import Session

from service.access.dependencies import Caller, Retryable
from service.core.concurrency import etag, parse_if_match
from service.core.database import get_session
from service.core.errors import problem_responses
from service.core.pagination import Page, PageDep
from service.core.types import Digits, Timestamp
from service.products import service
from service.products.models import BankKind, ProductCategory, ProductStatus
from service.products.schemas import (
    BankCreate,
    BankPublic,
    BankUpdate,
    ProductCreate,
    ProductPublic,
    ProductUpdate,
)

router = APIRouter(tags=["catalogue"])
SessionDep = Annotated[Session, Depends(get_session)]
BankCode = Annotated[str, Path(description="Bank code", examples=["jsbank-wx"])]
ProductCode = Annotated[str, Path(description="Product code", examples=["jsbank-wx-xikedai"])]

BANK_EXAMPLE = {
    "code": "example-bank-wx",
    "name": "示例银行股份有限公司无锡分行",
    "short_name": "示例银行",
    "kind": "joint_stock",
    "bridge_fund_partner": True,
}
PRODUCT_EXAMPLE = {
    "code": "example-bank-wx-tech-credit",
    "bank_code": "example-bank-wx",
    "name": "科创信用贷",
    "category": "credit",
    "scheme": "own",
    "description": "面向科技型中小企业的纯信用流动资金贷款。",
    "eligibility": {
        "size_classes": ["small", "micro", "medium"],
        "qualifications_any": ["tech_sme", "high_tech"],
        "min_years_in_business": 2,
        "min_credit_grade": "BBB",
        "registered_in_wuxi": True,
        "clusters_excluded": [],
    },
    "amount_min_fen": 10_000_000,
    "amount_max_fen": 300_000_000,
    "term_unit": "month",
    "term_min": 6,
    "term_max": 12,
    "rate": {
        "base": "LPR1Y",
        "spread_bp": 45,
        "tiers": [{"amount_max_fen": 100_000_000, "spread_bp": 30}],
    },
    "collateral_types": ["none"],
    "purposes": ["working_capital", "rnd"],
    "fees": [],
    "effective_from": "2026-01-01",
    "is_sample": True,
}


@router.get(
    "/banks",
    operation_id="listBanks",
    summary="List banks",
    description="Partner banks (and the bridge fund's operator), by code.",
    response_model=Page[BankPublic],
    responses=problem_responses(422),
)
def list_banks(
    session: SessionDep, page: PageDep, kind: Annotated[BankKind | None, Query()] = None
) -> Page[BankPublic]:
    return service.list_banks(session, page, kind)


@router.post(
    "/banks",
    operation_id="createBank",
    status_code=status.HTTP_201_CREATED,
    summary="Add a bank",
    description="A partner bank that can publish products.",
    response_model=BankPublic,
    responses=problem_responses(409, 422),
)
def create_bank(
    principal: Caller,
    session: SessionDep,
    retry: Retryable,
    data: Annotated[
        BankCreate,
        Body(
            openapi_examples={
                "bank": {"summary": "A joint-stock bank's branch", "value": BANK_EXAMPLE}
            }
        ),
    ],
) -> Any:
    def call() -> tuple[int, Any, dict[str, str]]:
        bank = service.create_bank(session, data, principal)
        public = BankPublic.model_validate(bank, from_attributes=True)
        return 201, public, {"Location": f"/api/v1/banks/{bank.code}"}

    return retry.answer(data.model_dump(mode="json"), call)


@router.get(
    "/banks/{bank_code}",
    operation_id="getBank",
    summary="Read a bank",
    description="One bank.",
    response_model=BankPublic,
    responses=problem_responses(404),
)
def get_bank(session: SessionDep, bank_code: BankCode) -> BankPublic:
    return BankPublic.model_validate(service.get_bank(session, bank_code), from_attributes=True)


@router.patch(
    "/banks/{bank_code}",
    operation_id="updateBank",
    summary="Update a bank",
    description="Only the fields sent change.",
    response_model=BankPublic,
    responses=problem_responses(404, 422),
)
def update_bank(
    principal: Caller,
    session: SessionDep,
    bank_code: BankCode,
    data: Annotated[
        BankUpdate,
        Body(
            openapi_examples={
                "partner": {
                    "summary": "Signs the bridge fund agreement",
                    "value": {"bridge_fund_partner": True},
                }
            }
        ),
    ],
) -> BankPublic:
    return BankPublic.model_validate(
        service.update_bank(session, bank_code, data, principal), from_attributes=True
    )


@router.get(
    "/products",
    operation_id="listProducts",
    summary="List products",
    description="The current version of each product. Without `updated_since`, active "
    "products by id; with it, every product changed after that instant (withdrawn ones "
    "included) ordered by `updated_at`, for incremental sync.",
    response_model=Page[ProductPublic],
    responses=problem_responses(422),
)
def list_products(
    session: SessionDep,
    page: PageDep,
    bank: Annotated[str | None, Query(examples=["jsbank-wx"])] = None,
    scheme: Annotated[str | None, Query(examples=["xikedai"])] = None,
    category: Annotated[ProductCategory | None, Query()] = None,
    product_status: Annotated[ProductStatus | None, Query(alias="status")] = None,
    updated_since: Annotated[
        Timestamp | None,
        Query(
            alias="updated-since",
            description="RFC 3339 instant with a zone",
            examples=["2026-01-01T00:00:00+08:00"],
        ),
    ] = None,
) -> Page[ProductPublic]:
    filters = service.ProductFilters(
        bank=bank,
        scheme=scheme,
        category=category,
        status=product_status,
        updated_since=updated_since,
    )
    return service.list_products(session, filters, page)


@router.post(
    "/products",
    operation_id="createProduct",
    status_code=status.HTTP_201_CREATED,
    summary="Publish a product",
    description="Creates version 1 of a product.",
    response_model=ProductPublic,
    responses=problem_responses(409, 422),
)
def create_product(
    principal: Caller,
    session: SessionDep,
    retry: Retryable,
    data: Annotated[
        ProductCreate,
        Body(
            openapi_examples={
                "credit": {"summary": "A credit loan for tech SMEs", "value": PRODUCT_EXAMPLE}
            }
        ),
    ],
) -> Any:
    def call() -> tuple[int, Any, dict[str, str]]:
        product = service.create_product(session, data, principal)
        headers = {
            "Location": f"/api/v1/products/{product.code}",
            "ETag": etag(product.current_version),
        }
        return 201, service.product_public(session, product), headers

    return retry.answer(data.model_dump(mode="json"), call)


@router.get(
    "/products/{product_code}",
    operation_id="getProduct",
    summary="Read a product",
    description="Its current version; the ETag carries the version.",
    response_model=ProductPublic,
    responses=problem_responses(404),
)
def get_product(
    session: SessionDep, response: Response, product_code: ProductCode
) -> ProductPublic:
    product = service.get_product(session, product_code)
    response.headers["ETag"] = etag(product.current_version)
    return service.product_public(session, product)


@router.patch(
    "/products/{product_code}",
    operation_id="updateProduct",
    summary="Change a product",
    description="Sent fields replace the current ones in a new version (older "
    "versions stay readable); sending what is already there changes nothing. "
    "`status: withdrawn` takes it off the catalogue.",
    response_model=ProductPublic,
    responses=problem_responses(404, 412, 422),
)
def update_product(
    principal: Caller,
    session: SessionDep,
    response: Response,
    product_code: ProductCode,
    data: Annotated[
        ProductUpdate,
        Body(
            openapi_examples={
                "cap": {
                    "summary": "Raise the maximum amount",
                    "value": {"amount_max_fen": 500_000_000},
                }
            }
        ),
    ],
    if_match: Annotated[str | None, Header(examples=['"2"'])] = None,
) -> ProductPublic:
    product = service.update_product(
        session, product_code, data, parse_if_match(if_match), principal
    )
    response.headers["ETag"] = etag(product.current_version)
    return service.product_public(session, product)


@router.get(
    "/products/{product_code}/versions",
    operation_id="listProductVersions",
    summary="A product's versions",
    description="Every version, oldest first.",
    response_model=list[ProductPublic],
    responses=problem_responses(404),
)
def list_product_versions(session: SessionDep, product_code: ProductCode) -> list[ProductPublic]:
    return service.list_product_versions(session, product_code)


@router.get(
    "/products/{product_code}/versions/{version:int}",
    operation_id="getProductVersion",
    summary="One version of a product",
    description="Any earlier version stays readable.",
    response_model=ProductPublic,
    responses=problem_responses(404),
)
def get_product_version(
    session: SessionDep,
    product_code: ProductCode,
    version: Annotated[int, Path(ge=1, examples=[1]), Digits],
) -> ProductPublic:
    return service.get_product_version(session, product_code, version)
