"""HTTP for the reference data: clusters, districts, qualification types, ownership types,
size table, LPR. Public to read; the office decides which ownership types count as 民营 (the
use case checks who asks)."""

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query
from sqlmodel import Session

from service.access.dependencies import Caller
from service.core.database import get_session
from service.core.errors import problem_responses
from service.core.types import Digits
from service.taxonomy import service
from service.taxonomy.models import SizeThresholdBase
from service.taxonomy.schemas import (
    ClusterMatch,
    ClusterPublic,
    DistrictPublic,
    LprRatePublic,
    OwnershipTypePublic,
    OwnershipTypeUpdate,
    QualificationTypePublic,
    SizeClassification,
    SizeStandardPublic,
)
from service.taxonomy.sizing import Figures

router = APIRouter(prefix="/reference", tags=["reference"])
SessionDep = Annotated[Session, Depends(get_session)]


@router.get(
    "/clusters",
    operation_id="listClusters",
    summary="The 465 industrial clusters",
    description="15 clusters with tier (landmark / advantage / future), policy "
    "priority and the keywords used to map free-text industry descriptions.",
    response_model=list[ClusterPublic],
)
def list_clusters(session: SessionDep) -> list:
    return service.list_clusters(session)


@router.get(
    "/clusters/match",
    operation_id="matchClusters",
    summary="Map a free-text industry description to clusters",
    description="Ranks clusters by the keywords found in the text (e.g. a business "
    "scope). Empty when nothing matches.",
    response_model=list[ClusterMatch],
    responses=problem_responses(422),
)
def match_cluster_text(
    session: SessionDep,
    text: Annotated[
        str, Query(min_length=1, max_length=2000, examples=["碳化硅功率器件的研发、生产和销售"])
    ],
    limit: Annotated[int, Query(ge=1, le=15), Digits] = 3,
) -> list[ClusterMatch]:
    return [
        ClusterMatch(code=h.code, name=h.name, score=h.score, matched_keywords=h.matched)
        for h in service.match_cluster_text(session, text, limit)
    ]


@router.get(
    "/districts",
    operation_id="listDistricts",
    summary="Wuxi districts",
    description="Districts and county-level cities with GB/T 2260 area codes; "
    "无锡经济开发区 has no area code of its own.",
    response_model=list[DistrictPublic],
)
def list_districts(session: SessionDep) -> list:
    return service.list_districts(session)


@router.get(
    "/qualification-types",
    operation_id="listQualificationTypes",
    summary="Qualification types",
    description="Qualifications an enterprise can hold with their terms of validity in months.",
    response_model=list[QualificationTypePublic],
)
def list_qualification_types(session: SessionDep) -> list:
    return service.list_qualification_types(session)


@router.get(
    "/ownership-types",
    operation_id="listOwnershipTypes",
    summary="Ownership types (控股情况)",
    description="Ownership as the statistics classify it (国有控股, 集体控股, 私人控股, "
    "港澳台商控股, 外商控股, 其他), with `private`: whether the type counts as 民营企业 in "
    "the office's figures and for products restricted to private enterprises.",
    response_model=list[OwnershipTypePublic],
)
def list_ownership_types(session: SessionDep) -> list:
    return service.list_ownership_types(session)


@router.patch(
    "/ownership-types/{code}",
    operation_id="updateOwnershipType",
    summary="Decide whether an ownership type counts as 民营",
    description="The office's decision (by default 私人控股 and 集体控股 count); recorded in "
    "the audit log. Names and order follow the reference data and do not change here.",
    response_model=OwnershipTypePublic,
    responses=problem_responses(404, 422),
)
def update_ownership_type(
    principal: Caller,
    session: SessionDep,
    code: Annotated[str, Path(max_length=16, examples=["collective"])],
    data: Annotated[
        OwnershipTypeUpdate,
        Body(
            openapi_examples={
                "collective": {
                    "summary": "Stop counting 集体控股 as 民营",
                    "value": {"private": False},
                }
            }
        ),
    ],
) -> OwnershipTypePublic:
    return OwnershipTypePublic.model_validate(
        service.update_ownership_type(session, principal, code, data), from_attributes=True
    )


@router.get(
    "/size-standards",
    operation_id="listSizeStandards",
    summary="Enterprise size classification table",
    description="统计上大中小微型企业划分办法 (2017) as data: one row per industry with "
    "the lower bounds of each class (revenue and assets in 万元).",
    response_model=list[SizeStandardPublic],
)
def list_size_standards(session: SessionDep) -> list[SizeStandardPublic]:
    return [
        SizeStandardPublic(
            key=i.key,
            name=i.name,
            gbt_scope=i.gbt_scope,
            indicators=i.indicators,
            sort_order=i.sort_order,
            thresholds=[SizeThresholdBase.model_validate(t, from_attributes=True) for t in ts],
        )
        for i, ts in service.size_standards(session)
    ]


@router.get(
    "/size-classification",
    operation_id="classifySize",
    summary="Classify an enterprise's size from its figures",
    description="Applies the size table to an industry code and figures (money in fen).",
    response_model=SizeClassification,
    responses=problem_responses(422),
)
def classify_size(
    session: SessionDep,
    industry_code: Annotated[str, Query(examples=["C3973"])],
    employees: Annotated[int | None, Query(ge=0, examples=[120]), Digits] = None,
    revenue_fen: Annotated[int | None, Query(ge=0, examples=[5_000_000_000]), Digits] = None,
    total_assets_fen: Annotated[int | None, Query(ge=0), Digits] = None,
) -> SizeClassification:
    figures = Figures(employees, revenue_fen, total_assets_fen)
    code, result = service.classify_size(session, industry_code, figures)
    return SizeClassification(
        industry_code=code,
        size_class=result.size_class,
        size_industry_key=result.industry_key,
        reason=result.reason,
    )


@router.get(
    "/lpr",
    operation_id="listLpr",
    summary="Loan prime rate history",
    description="One-year and five-year LPR by effective date, newest first, in basis points.",
    response_model=list[LprRatePublic],
)
def list_lpr(session: SessionDep) -> list:
    return service.list_lpr(session)
