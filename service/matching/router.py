"""HTTP for financing needs, recommendations, explanations, prospects and the scoring
configuration: each route parses the request, calls one use case with the caller and shapes the
answer; the use cases decide who may do what."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Response, status
from sqlmodel import Session

from service.access.dependencies import Caller, Retryable
from service.core.concurrency import etag, parse_if_match
from service.core.database import get_session
from service.core.errors import problem_responses
from service.core.pagination import Page, PageDep
from service.core.types import Digits
from service.matching import configuration, prospects, recommendations, service
from service.matching.models import NeedStatus
from service.matching.schemas import (
    Explanation,
    NeedCreate,
    NeedPublic,
    NeedUpdate,
    Prospect,
    PurposeOut,
    Recommendations,
    ScoringConfigCreate,
    ScoringConfigPublic,
)

router = APIRouter(tags=["matching"])
SessionDep = Annotated[Session, Depends(get_session)]
NeedId = Annotated[int, Path(description="Financing need id", examples=[1]), Digits]
IfMatch = Annotated[str | None, Header(description="ETag the change is based on", examples=['"1"'])]

NEED_EXAMPLE = {
    "enterprise_id": 1,
    "amount_fen": 300_000_000,
    "term_months": 12,
    "purpose": "working_capital",
    "collateral": ["none"],
    "wanted_by_date": "2027-01-31",
    "consent_share_details": True,
    "max_banks": 3,
}


@router.post(
    "/needs",
    operation_id="createNeed",
    status_code=status.HTTP_201_CREATED,
    summary="Post a financing need",
    description="An enterprise (or the office on its "
    "behalf) posts a need; it is matched against the catalogue at once. "
    "`consent_share_details` lets banks see who it is; `max_banks` caps how many "
    "banks may contact it (1–5).",
    response_model=NeedPublic,
    responses=problem_responses(422),
)
def create_need(
    principal: Caller,
    session: SessionDep,
    retry: Retryable,
    data: Annotated[
        NeedCreate,
        Body(
            openapi_examples={
                "credit": {"summary": "3 million of working capital, credit", "value": NEED_EXAMPLE}
            }
        ),
    ],
) -> Any:
    def call() -> tuple[int, Any, dict[str, str]]:
        need = service.create_need(session, data, principal)
        headers = {"Location": f"/api/v1/needs/{need.id}", "ETag": etag(need.version)}
        return 201, service.need_public(need), headers

    return retry.answer(data.model_dump(mode="json"), call)


@router.get(
    "/needs",
    operation_id="listNeeds",
    summary="List financing needs",
    description="Filter by enterprise and status.",
    response_model=Page[NeedPublic],
    responses=problem_responses(422),
)
def list_needs(
    principal: Caller,
    session: SessionDep,
    page: PageDep,
    enterprise_id: Annotated[int | None, Query(), Digits] = None,
    need_status: Annotated[NeedStatus | None, Query(alias="status")] = None,
) -> Page[NeedPublic]:
    return service.list_needs(session, page, enterprise_id, need_status, principal=principal)


@router.get(
    "/needs/{need_id:int}",
    operation_id="getNeed",
    summary="Read a financing need",
    description="One need; the ETag carries its version.",
    response_model=NeedPublic,
    responses=problem_responses(404),
)
def get_need(
    principal: Caller, session: SessionDep, response: Response, need_id: NeedId
) -> NeedPublic:
    need = service.read_need(session, need_id, principal)
    response.headers["ETag"] = etag(need.version)
    return service.need_public(need)


@router.patch(
    "/needs/{need_id:int}",
    operation_id="updateNeed",
    summary="Change a financing need",
    description="Only the fields sent change; the need is matched again. A withdrawn "
    "or fulfilled need cannot change (409).",
    response_model=NeedPublic,
    responses=problem_responses(404, 409, 412, 422),
)
def update_need(
    principal: Caller,
    session: SessionDep,
    response: Response,
    need_id: NeedId,
    data: Annotated[
        NeedUpdate,
        Body(
            openapi_examples={
                "amount": {"summary": "A larger amount", "value": {"amount_fen": 500_000_000}}
            }
        ),
    ],
    if_match: IfMatch = None,
) -> NeedPublic:
    need = service.update_need(session, need_id, data, parse_if_match(if_match), principal)
    response.headers["ETag"] = etag(need.version)
    return service.need_public(need)


@router.post(
    "/needs/{need_id:int}/withdraw",
    operation_id="withdrawNeed",
    summary="Withdraw a financing need",
    description="Idempotent; its stored matches are removed.",
    response_model=NeedPublic,
    responses=problem_responses(404, 409, 412),
)
def withdraw_need(
    principal: Caller,
    session: SessionDep,
    retry: Retryable,
    need_id: NeedId,
    if_match: IfMatch = None,
) -> Any:
    def call() -> tuple[int, Any, dict[str, str]]:
        expected = parse_if_match(if_match)
        need = service.withdraw_need(session, need_id, expected, principal=principal)
        return 200, service.need_public(need), {"ETag": etag(need.version)}

    return retry.answer({"if_match": if_match}, call)


@router.get(
    "/needs/{need_id:int}/recommendations",
    operation_id="recommendForNeed",
    summary="Products recommended for a need",
    description="Every eligible product, best first, with its score, the factor "
    "breakdown (contributions add up to the score) and the bank; then near misses "
    "with what would make them eligible.",
    response_model=Recommendations,
    responses=problem_responses(404, 409),
)
def recommend_for_need(principal: Caller, session: SessionDep, need_id: NeedId) -> Recommendations:
    return recommendations.recommend_for_need(session, need_id, principal)


@router.get(
    "/enterprises/{enterprise_id:int}/recommendations",
    operation_id="recommendForEnterprise",
    summary="Products recommended for an enterprise",
    description="From its profile and its library projects (each project's financing "
    "need), without a posted need: `basis` says which fits best.",
    response_model=Recommendations,
    responses=problem_responses(404),
)
def recommend_for_enterprise(
    principal: Caller,
    session: SessionDep,
    enterprise_id: Annotated[int, Path(examples=[1]), Digits],
) -> Recommendations:
    return recommendations.recommend_for_enterprise(session, enterprise_id, principal)


@router.get(
    "/explanations",
    operation_id="explainMatch",
    summary="Explain one pair",
    description="Why a product fits (or not) an enterprise's profile or a need: every "
    "failed gate with its remedy, or the score with each factor's weight, value, "
    "contribution and reason.",
    response_model=Explanation,
    responses=problem_responses(404, 422),
)
def explain(
    principal: Caller,
    session: SessionDep,
    product: Annotated[str, Query(description="Product code", examples=["jsbank-wx-xikedai"])],
    enterprise_id: Annotated[int | None, Query(), Digits] = None,
    need_id: Annotated[int | None, Query(), Digits] = None,
) -> Explanation:
    return recommendations.explain(session, product, enterprise_id, need_id, principal)


@router.get(
    "/products/{product_code}/prospects",
    operation_id="listProspects",
    summary="Prospects for a product",
    description="Library enterprises that fit the "
    "product, best first: those with a posted need first by score, with their profile "
    "otherwise. Anonymised (cluster, district, size, qualifications, need) unless the "
    "enterprise consented to share its details.",
    response_model=Page[Prospect],
    responses=problem_responses(404, 422),
)
def list_prospects(
    principal: Caller,
    session: SessionDep,
    page: PageDep,
    product_code: Annotated[str, Path(examples=["jsbank-wx-xikedai"])],
) -> Page[Prospect]:
    return prospects.prospects(session, product_code, page, principal)


CONFIG_EXAMPLE = {
    "config": {
        "weights": {
            "sector": 25,
            "industry": 10,
            "size": 10,
            "need": 20,
            "qualification": 10,
            "cost": 5,
            "policy": 20,
        },
        "top_per_enterprise": 10,
        "top_per_product": 200,
        "near_miss_max_failures": 2,
        "tier_value": {"landmark": 1.0, "advantage": 0.8, "future": 0.85, "none": 0.4},
        "size_value": {"micro": 1.0, "small": 1.0, "medium": 0.8, "large": 0.5, "unknown": 0.3},
        "spread_best_bp": -30,
        "spread_worst_bp": 200,
    },
    "note": "提高产业契合权重",
}


@router.get(
    "/scoring-config",
    operation_id="getScoringConfig",
    summary="The scoring configuration in force",
    description="Weights and thresholds of the scoring, at the version in force (the newest).",
    response_model=ScoringConfigPublic,
    responses=problem_responses(404),
)
def get_scoring_config(_: Caller, session: SessionDep) -> ScoringConfigPublic:
    return configuration.scoring_config(session)


@router.get(
    "/reference/purposes",
    operation_id="listPurposes",
    summary="Financing purposes, as a tree",
    tags=["reference"],
    description="The purposes a need may state and a product may accept, from the scoring "
    "configuration in force: each with its name, its parent, and `accepted_by` (the purposes "
    "whose products accept it: itself and its ancestors). A product accepting a purpose "
    "accepts its children.",
    response_model=list[PurposeOut],
)
def list_purposes(session: SessionDep) -> list[PurposeOut]:
    return configuration.purposes(session)


@router.get(
    "/scoring-config/versions",
    operation_id="listScoringConfigs",
    summary="List scoring configuration versions",
    description="Every version, newest first; stored matches name the version that made them.",
    response_model=Page[ScoringConfigPublic],
    responses=problem_responses(422),
)
def list_scoring_configs(
    _: Caller, session: SessionDep, page: PageDep
) -> Page[ScoringConfigPublic]:
    return configuration.list_scoring_configs(session, page)


@router.get(
    "/scoring-config/versions/{version:int}",
    operation_id="getScoringConfigVersion",
    summary="Read one scoring configuration version",
    description="Any version, in force or not.",
    response_model=ScoringConfigPublic,
    responses=problem_responses(404, 422),
)
def get_scoring_config_version(
    _: Caller,
    session: SessionDep,
    version: Annotated[int, Path(ge=1, le=1_000_000, description="Version", examples=[1]), Digits],
) -> ScoringConfigPublic:
    return configuration.scoring_config(session, version)


@router.post(
    "/scoring-config",
    operation_id="createScoringConfig",
    status_code=status.HTTP_201_CREATED,
    summary="Put a new scoring configuration in force",
    description="Makes a new version (the previous ones stay readable). Recommendations use it "
    "at once; every stored match is recomputed with it by a background job. Weights must name "
    "the five factors and add up to 100.",
    response_model=ScoringConfigPublic,
    responses=problem_responses(422),
)
def create_scoring_config(
    principal: Caller,
    session: SessionDep,
    retry: Retryable,
    data: Annotated[
        ScoringConfigCreate,
        Body(
            openapi_examples={
                "sector": {"summary": "More weight on sector", "value": CONFIG_EXAMPLE}
            }
        ),
    ],
) -> Any:
    def call() -> tuple[int, Any, dict[str, str]]:
        created = configuration.create_scoring_config(session, data, principal)
        location = f"/api/v1/scoring-config/versions/{created.version}"
        return 201, created, {"Location": location}

    return retry.answer(data.model_dump(mode="json"), call)
