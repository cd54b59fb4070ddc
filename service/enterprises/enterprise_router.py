"""HTTP for the enterprise library (企业库): an enterprise with its qualifications and
contacts. Who may do what is decided by the use cases (``service``); a route passes the caller."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Response, status
from sqlmodel import Session

from service.access.dependencies import Caller, Retryable
from service.core.concurrency import etag, parse_if_match
from service.core.database import get_session
from service.core.errors import problem_responses
from service.core.pagination import Page, PageDep
from service.core.types import Digits, IsoDate
from service.enterprises import service
from service.enterprises.schemas import (
    CREDIT_CODE_EXAMPLE,
    EnterpriseCreate,
    EnterprisePublic,
    EnterpriseSummary,
    EnterpriseUpdate,
    QualificationCreate,
    QualificationPublic,
)
from service.taxonomy.models import SizeClass, Tier

router = APIRouter(tags=["enterprises"])
SessionDep = Annotated[Session, Depends(get_session)]
EnterpriseId = Annotated[int, Path(description="Enterprise id", examples=[1]), Digits]
IfMatch = Annotated[
    str | None, Header(description="ETag of the version the change is based on", examples=['"3"'])
]

ENTERPRISE_EXAMPLE = {
    "credit_code": CREDIT_CODE_EXAMPLE,
    "name": "无锡华光电子股份有限公司",
    "district_code": "xinwu",
    "industry_code": "C3973",
    "cluster_code": "ic",
    "employees": 260,
    "revenue_fen": 18_500_000_000,
    "total_assets_fen": 32_000_000_000,
    "established_date": "2009-06-18",
    "credit_grade": "A",
    "ownership": "private",
    "qualifications": [
        {
            "type_code": "high_tech",
            "issued_date": "2024-12-01",
            "source": "江苏省2024年第一批高新技术企业名单",
        }
    ],
    "contacts": [
        {"name": "王敏", "title": "财务总监", "phone": "0510-85212345", "is_primary": True}
    ],
}


@router.post(
    "/enterprises",
    operation_id="createEnterprise",
    status_code=status.HTTP_201_CREATED,
    summary="Add an enterprise to the library",
    description="The credit code is validated (GB 32100-2015); the size class is "
    "derived from the size table and the figures. An enterprise registered outside "
    "Wuxi is accepted and flagged (`registered_in_wuxi: false`). `ownership` is a code of "
    "/reference/ownership-types; sent instead, `registration_type` (企业登记注册类型) is "
    "mapped to one where it says who holds the capital (else a 422 `undetermined_ownership`).",
    response_model=EnterprisePublic,
    responses=problem_responses(409, 422),
)
def create_enterprise(
    principal: Caller,
    session: SessionDep,
    retry: Retryable,
    data: Annotated[
        EnterpriseCreate,
        Body(
            openapi_examples={
                "enterprise": {"summary": "A high-tech IC enterprise", "value": ENTERPRISE_EXAMPLE}
            }
        ),
    ],
) -> Any:
    def call() -> tuple[int, Any, dict[str, str]]:
        enterprise = service.create_enterprise(session, data, principal)
        headers = {
            "Location": f"/api/v1/enterprises/{enterprise.id}",
            "ETag": etag(enterprise.version),
        }
        return 201, service.enterprise_public(session, enterprise), headers

    return retry.answer(data.model_dump(mode="json"), call)


@router.get(
    "/enterprises",
    operation_id="listEnterprises",
    summary="List and search enterprises",
    description="Filters combine with AND. `name` searches fuzzily and tolerates "
    "有限公司 / 股份有限公司 / 无锡市 variations; results are then ranked by "
    "`match_score`. `qualification` keeps enterprises holding a qualification valid on "
    "`valid_on` (default today). Unknown codes are a 422 with suggestions.",
    response_model=Page[EnterpriseSummary],
    responses=problem_responses(422),
)
def list_enterprises(
    principal: Caller,
    session: SessionDep,
    page: PageDep,
    cluster: Annotated[str | None, Query(description="Cluster code", examples=["ic"])] = None,
    tier: Annotated[Tier | None, Query(description="Cluster tier")] = None,
    district: Annotated[str | None, Query(description="District code", examples=["xinwu"])] = None,
    size_class: Annotated[SizeClass | None, Query()] = None,
    qualification: Annotated[
        str | None, Query(description="Qualification type code", examples=["high_tech"])
    ] = None,
    valid_on: Annotated[
        IsoDate | None, Query(description="Date the qualification must be valid on (default today)")
    ] = None,
    name: Annotated[str | None, Query(max_length=100, examples=["华光电子"])] = None,
    credit_code: Annotated[str | None, Query(max_length=18)] = None,
    registered_in_wuxi: Annotated[bool | None, Query()] = None,
    chain_tag: Annotated[str | None, Query(max_length=64)] = None,
    industry: Annotated[
        str | None, Query(max_length=5, description="GB/T 4754 code prefix", examples=["C39"])
    ] = None,
    ownership: Annotated[
        str | None,
        Query(
            max_length=16,
            description="Ownership type code (/reference/ownership-types), or `unknown` for "
            "enterprises whose ownership is not recorded",
            examples=["private"],
        ),
    ] = None,
    private: Annotated[
        bool | None,
        Query(
            description="true: ownership counts as 民营企业; false: known and does not "
            "(unknown ownership is in neither)"
        ),
    ] = None,
) -> Page[EnterpriseSummary]:
    filters = service.EnterpriseFilters(
        cluster=cluster,
        tier=tier,
        district=district,
        size_class=size_class,
        qualification=qualification,
        valid_on=valid_on,
        name=name,
        credit_code=credit_code,
        registered_in_wuxi=registered_in_wuxi,
        chain_tag=chain_tag,
        industry=industry,
        ownership=ownership,
        private=private,
    )
    return service.list_enterprises(session, filters, page, principal)


@router.get(
    "/enterprises/{enterprise_id:int}",
    operation_id="getEnterprise",
    summary="Read an enterprise",
    description="With qualifications, contacts and how "
    "the size class was derived. The ETag carries the version for If-Match.",
    response_model=EnterprisePublic,
    responses=problem_responses(404),
)
def get_enterprise(
    principal: Caller, session: SessionDep, response: Response, enterprise_id: EnterpriseId
) -> EnterprisePublic:
    enterprise = service.read_enterprise(session, enterprise_id, principal)
    response.headers["ETag"] = etag(enterprise.version)
    return service.enterprise_public(session, enterprise)


@router.patch(
    "/enterprises/{enterprise_id:int}",
    operation_id="updateEnterprise",
    summary="Update an enterprise",
    description="Only the fields sent change; `qualifications` and `contacts`, when "
    "sent, replace the lists. The size class is derived again. Send `If-Match` with "
    "the ETag to refuse a change based on a stale read (412).",
    response_model=EnterprisePublic,
    responses=problem_responses(404, 412, 422),
)
def update_enterprise(
    principal: Caller,
    session: SessionDep,
    response: Response,
    enterprise_id: EnterpriseId,
    data: Annotated[
        EnterpriseUpdate,
        Body(
            openapi_examples={
                "figures": {
                    "summary": "New annual figures",
                    "value": {"employees": 320, "revenue_fen": 25_000_000_000},
                }
            }
        ),
    ],
    if_match: IfMatch = None,
) -> EnterprisePublic:
    enterprise = service.update_enterprise(
        session, enterprise_id, data, parse_if_match(if_match), principal
    )
    response.headers["ETag"] = etag(enterprise.version)
    return service.enterprise_public(session, enterprise)


@router.post(
    "/enterprises/{enterprise_id:int}/qualifications",
    operation_id="addQualification",
    status_code=status.HTTP_201_CREATED,
    summary="Add a qualification",
    description="The expiry defaults to the issue date plus the type's term.",
    response_model=QualificationPublic,
    responses=problem_responses(404, 409, 422),
)
def add_qualification(
    principal: Caller,
    session: SessionDep,
    retry: Retryable,
    enterprise_id: EnterpriseId,
    data: Annotated[
        QualificationCreate,
        Body(
            openapi_examples={
                "srdi": {
                    "summary": "Provincial 专精特新",
                    "value": {
                        "type_code": "srdi_sme",
                        "issued_date": "2025-01-10",
                        "source": "2024年度江苏省专精特新中小企业名单",
                    },
                }
            }
        ),
    ],
) -> Any:
    def call() -> tuple[int, Any, dict[str, str]]:
        q = service.add_qualification(session, enterprise_id, data, principal)
        return 201, QualificationPublic.model_validate(q, from_attributes=True), {}

    return retry.answer(data.model_dump(mode="json"), call)


@router.delete(
    "/enterprises/{enterprise_id:int}/qualifications/{qualification_id:int}",
    operation_id="removeQualification",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a qualification",
    description="Removes one qualification record (e.g. entered by mistake).",
    responses=problem_responses(404),
)
def remove_qualification(
    principal: Caller,
    session: SessionDep,
    enterprise_id: EnterpriseId,
    qualification_id: Annotated[int, Path(examples=[1]), Digits],
) -> Response:
    service.remove_qualification(session, enterprise_id, qualification_id, principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
