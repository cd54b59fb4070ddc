"""HTTP for support policies (政策直达): the policies and their versions, an enterprise's
entitlements and the evaluation of one policy for one enterprise, notices, and the awards the
office records."""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Response, status
from sqlmodel import Session

from service.access.dependencies import Caller, Retryable
from service.core.concurrency import etag, parse_if_match
from service.core.database import get_session
from service.core.errors import problem_responses
from service.core.pagination import Page, PageDep
from service.core.types import Digits
from service.policies import grants, service
from service.policies.models import GrantStatus
from service.policies.schemas import (
    EntitlementPublic,
    EvaluationPublic,
    GrantCreate,
    GrantPublic,
    GrantStep,
    NoticePublic,
    NoticesSeen,
    PolicyCreate,
    PolicyPublic,
    PolicyTotals,
    PolicyUpdate,
    VersionCreate,
    VersionPublic,
)

router = APIRouter(tags=["policies"])
SessionDep = Annotated[Session, Depends(get_session)]
PolicyCode = Annotated[str, Path(max_length=40, examples=["little-giant-first"])]
EnterpriseId = Annotated[
    int, Path(ge=1, le=2_147_483_647, description="Enterprise id", examples=[1]), Digits
]
GrantId = Annotated[int, Path(ge=1, le=2_147_483_647, examples=[1]), Digits]
AsOf = Annotated[
    date | None,
    Query(description="Evaluate as of this day (today in Asia/Shanghai if left out)"),
]
IfMatch = Annotated[str | None, Header(description="ETag of the record's version")]

TECH_EXAMPLE = {
    "scheme": "interest_subsidy",
    "loan_schemes": ["xikedai"],
    "share_bp": 3000,
    "cap_per_loan_fen": 20_000_000,
    "cap_per_year_fen": 50_000_000,
    "once": False,
    "documents": ["贷款合同", "付息凭证"],
}


@router.get(
    "/policies",
    operation_id="listPolicies",
    summary="Support policies",
    description="Every active policy with the version in force today and, in words, who may "
    "receive how much. Open to every caller.",
    response_model=list[PolicyPublic],
)
def list_policies(
    _: Caller,
    session: SessionDep,
    include_inactive: Annotated[bool, Query(description="Inactive policies too")] = False,
) -> Any:
    return service.list_policies(session, include_inactive)


@router.post(
    "/policies",
    operation_id="createPolicy",
    status_code=status.HTTP_201_CREATED,
    summary="Publish a policy",
    description="The office publishes a policy with its first version: who is eligible and "
    "the amount formula as parameters (a qualification award, technology-transformation tiers, "
    "or a loan interest subsidy with the loans it covers and its caps), with effective dates "
    "and a budget. The library is re-evaluated after the commit and enterprises newly "
    "entitled are notified once.",
    response_model=PolicyPublic,
    responses=problem_responses(403, 409, 422),
)
def create_policy(
    principal: Caller,
    session: SessionDep,
    retry: Retryable,
    data: Annotated[
        PolicyCreate,
        Body(
            openapi_examples={
                "subsidy": {
                    "summary": "A loan interest subsidy",
                    "value": {
                        "code": "xikedai-subsidy",
                        "name": "锡科贷贴息",
                        "department_code": "wx-czj",
                        "first_version": {
                            "effective_from": "2027-01-01",
                            "budget_fen": 5_000_000_000,
                            "parameters": TECH_EXAMPLE,
                        },
                    },
                }
            }
        ),
    ],
) -> Any:
    def call() -> tuple[int, Any, dict[str, str]]:
        policy = service.create_policy(session, principal, data)
        _, body = service.get_policy(session, policy.code)
        return 201, body, {"Location": f"/api/v1/policies/{policy.code}", "ETag": etag(1)}

    return retry.answer(data.model_dump(mode="json"), call)


@router.get(
    "/policies/{code}",
    operation_id="getPolicy",
    summary="A policy with all its versions",
    description="The policy, who may receive how much under the version in force today (in "
    "words), and every version with its dates, budget and parameters; the ETag carries the "
    "record's version for If-Match.",
    response_model=PolicyPublic,
    responses=problem_responses(404),
)
def get_policy(_: Caller, session: SessionDep, response: Response, code: PolicyCode) -> Any:
    policy, body = service.get_policy(session, code)
    response.headers["ETag"] = etag(policy.version)
    return body


@router.patch(
    "/policies/{code}",
    operation_id="updatePolicy",
    summary="Rename, reassign or deactivate a policy",
    description="A policy is never deleted: inactive, it is no longer evaluated and keeps its "
    "records. Its rules change only by a new version. If-Match: a stale version is a 412.",
    response_model=PolicyPublic,
    responses=problem_responses(403, 404, 412, 422),
)
def update_policy(
    principal: Caller,
    session: SessionDep,
    response: Response,
    code: PolicyCode,
    data: Annotated[
        PolicyUpdate,
        Body(openapi_examples={"deactivate": {"value": {"active": False}}}),
    ],
    if_match: IfMatch = None,
) -> Any:
    policy = service.update_policy(session, principal, code, data, parse_if_match(if_match))
    response.headers["ETag"] = etag(policy.version)
    return service.get_policy(session, code)[1]


@router.get(
    "/policies/{code}/versions",
    operation_id="listPolicyVersions",
    summary="A policy's versions",
    description="Oldest first; each is in force from its `effective_from` until the next one "
    "begins (or its `effective_to`).",
    response_model=list[VersionPublic],
    responses=problem_responses(404),
)
def list_versions(_: Caller, session: SessionDep, code: PolicyCode) -> Any:
    return service.get_policy(session, code)[1].versions


@router.post(
    "/policies/{code}/versions",
    operation_id="addPolicyVersion",
    status_code=status.HTTP_201_CREATED,
    summary="Add a version to a policy",
    description="The office changes a policy's rules from a date: the earlier versions are "
    "kept and still govern their days. The library is re-evaluated after the commit.",
    response_model=VersionPublic,
    responses=problem_responses(403, 404, 422),
)
def add_version(
    principal: Caller,
    session: SessionDep,
    retry: Retryable,
    code: PolicyCode,
    data: Annotated[
        VersionCreate,
        Body(
            openapi_examples={
                "raise": {
                    "summary": "A higher award from a date",
                    "value": {
                        "effective_from": "2027-01-01",
                        "parameters": {
                            "scheme": "qualification_award",
                            "qualification_types": ["srdi_sme"],
                            "award": "first",
                            "amount_fen": 40_000_000,
                            "documents": ["江苏省专精特新中小企业名单文件", "奖励申请表"],
                        },
                        "note": "奖励标准调整",
                    },
                }
            }
        ),
    ],
) -> Any:
    def call() -> tuple[int, Any, dict[str, str]]:
        row = service.add_version(session, principal, code, data)
        return 201, service.version_public(row), {}

    return retry.answer(data.model_dump(mode="json"), call)


@router.get(
    "/policies/{code}/evaluation",
    operation_id="evaluatePolicy",
    summary="Evaluate one policy for one enterprise",
    description="Whether the enterprise is entitled, to how much (in fen, rounded down at "
    "each step), how the amount is made up, the reasons, or what is missing; the documents "
    "to prepare. The office for any enterprise, an enterprise for itself.",
    response_model=EvaluationPublic,
    responses=problem_responses(403, 404, 422),
)
def evaluate_policy(
    principal: Caller,
    session: SessionDep,
    code: PolicyCode,
    enterprise_id: Annotated[int, Query(ge=1, le=2_147_483_647), Digits],
    as_of: AsOf = None,
) -> Any:
    return service.evaluate_one(session, principal, code, enterprise_id, as_of)


@router.get(
    "/enterprises/{enterprise_id:int}/entitlements",
    operation_id="listEntitlements",
    summary="What support an enterprise is entitled to (可享受的政策)",
    description="Every policy in force evaluated for the enterprise: the amount and its "
    "lines, the reasons, what to prepare, and what was recorded (when it was found and the "
    "enterprise told, the award). `all=true` adds the policies it is not entitled to, with "
    "what is missing. The office for any enterprise, an enterprise for itself.",
    response_model=list[EntitlementPublic],
    responses=problem_responses(403, 404),
)
def list_entitlements(
    principal: Caller,
    session: SessionDep,
    enterprise_id: EnterpriseId,
    as_of: AsOf = None,
    include_all: Annotated[bool, Query(alias="all")] = False,
) -> Any:
    return service.entitlements(session, principal, enterprise_id, as_of, include_all)


@router.get(
    "/policy-notices",
    operation_id="listPolicyNotices",
    summary="Notices of new entitlements",
    description="Newest first: each time an enterprise became entitled to a policy for a "
    "period, once. An enterprise reads its own; the office every enterprise's.",
    response_model=Page[NoticePublic],
    responses=problem_responses(403, 422),
)
def list_notices(
    principal: Caller,
    session: SessionDep,
    page: PageDep,
    enterprise_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    unseen: Annotated[bool, Query(description="Only those not yet marked seen")] = False,
) -> Any:
    return service.list_notices(session, principal, page, enterprise_id, unseen)


@router.post(
    "/policy-notices/seen",
    operation_id="markPolicyNoticesSeen",
    summary="Mark notices seen",
    description="The enterprise has read its notices up to `up_to_id`.",
    responses=problem_responses(403, 422),
)
def mark_seen(
    principal: Caller,
    session: SessionDep,
    retry: Retryable,
    data: Annotated[NoticesSeen, Body(openapi_examples={"read": {"value": {"up_to_id": 42}}})],
) -> Any:
    def call() -> tuple[int, Any, dict[str, str]]:
        return 200, {"marked": service.mark_seen(session, principal, data.up_to_id)}, {}

    return retry.answer(data.model_dump(mode="json"), call)


@router.post(
    "/policies/reevaluate",
    operation_id="reevaluatePolicies",
    summary="Re-evaluate every enterprise now",
    description="The office re-evaluates the library at once (it also runs daily and after "
    "every change): new entitlements are notified once, lapsed ones marked.",
    responses=problem_responses(403),
)
def reevaluate(principal: Caller, session: SessionDep, retry: Retryable) -> Any:
    def call() -> tuple[int, Any, dict[str, str]]:
        return 200, service.reevaluate_now(session, principal), {}

    return retry.answer({}, call)


@router.get(
    "/policy-grants",
    operation_id="listPolicyGrants",
    summary="Awards recorded",
    description="Newest first. The office every award; an enterprise its own.",
    response_model=Page[GrantPublic],
    responses=problem_responses(403, 422),
)
def list_grants(
    principal: Caller,
    session: SessionDep,
    page: PageDep,
    policy_code: Annotated[str | None, Query(max_length=40)] = None,
    grant_status: Annotated[GrantStatus | None, Query(alias="status")] = None,
    enterprise_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> Any:
    return grants.list_grants(session, principal, page, policy_code, grant_status, enterprise_id)


@router.post(
    "/policy-grants",
    operation_id="recordPolicyGrant",
    status_code=status.HTTP_201_CREATED,
    summary="Record an application for an award",
    description="The office records that an enterprise applied under a policy for a period "
    "(`once`, or the year); one record per enterprise, policy and period (a second is a 409). "
    "Then approve it with the amount, pay it, or reject it (POST …/steps).",
    response_model=GrantPublic,
    responses=problem_responses(403, 409, 422),
)
def record_grant(
    principal: Caller,
    session: SessionDep,
    retry: Retryable,
    data: Annotated[
        GrantCreate,
        Body(
            openapi_examples={
                "apply": {
                    "value": {
                        "enterprise_id": 1,
                        "policy_code": "little-giant-first",
                        "period": "once",
                        "applied_date": "2026-11-20",
                    }
                }
            }
        ),
    ],
) -> Any:
    def call() -> tuple[int, Any, dict[str, str]]:
        row = grants.record_grant(session, principal, data)
        body = grants.grant_public(session, row)
        return 201, body, {"Location": f"/api/v1/policy-grants/{row.id}", "ETag": etag(1)}

    return retry.answer(data.model_dump(mode="json"), call)


@router.get(
    "/policy-grants/{grant_id:int}",
    operation_id="getPolicyGrant",
    summary="An award recorded",
    description="The office reads any award, an enterprise its own (another's is a 404); the "
    "ETag carries its version for the next step's If-Match.",
    response_model=GrantPublic,
    responses=problem_responses(403, 404),
)
def get_grant(principal: Caller, session: SessionDep, response: Response, grant_id: GrantId) -> Any:
    row = grants.read_grant(session, principal, grant_id)
    response.headers["ETag"] = etag(row.version)
    return grants.grant_public(session, row)


@router.post(
    "/policy-grants/{grant_id:int}/steps",
    operation_id="takePolicyGrantStep",
    summary="Approve, pay or reject an award",
    description="`approve` with `amount_fen`, at most what the policy allows the enterprise "
    "for the period (a 422 `above_entitlement` says how much that is); `pay` (at most the "
    "approved amount; the approved amount when left out); `reject`. A step the status does "
    "not allow is a 409; a stale If-Match a 412.",
    response_model=GrantPublic,
    responses=problem_responses(403, 404, 409, 412, 422),
)
def take_grant_step(
    principal: Caller,
    session: SessionDep,
    retry: Retryable,
    grant_id: GrantId,
    step: Annotated[
        GrantStep,
        Body(
            openapi_examples={
                "approve": {"value": {"action": "approve", "amount_fen": 50_000_000}},
                "pay": {"value": {"action": "pay", "on": "2026-11-30"}},
                "reject": {"value": {"action": "reject", "note": "不符合申报条件"}},
            }
        ),
    ],
    if_match: IfMatch = None,
) -> Any:
    def call() -> tuple[int, Any, dict[str, str]]:
        row = grants.take_step(session, principal, grant_id, step, parse_if_match(if_match))
        return 200, grants.grant_public(session, row), {"ETag": etag(row.version)}

    return retry.answer({"step": step.model_dump(mode="json"), "if_match": if_match}, call)


@router.get(
    "/policy-totals",
    operation_id="policyTotals",
    summary="Each policy's budget, estimates and awards",
    description="Per policy: the budget of the version in force, the enterprises entitled "
    "and the amount not yet awarded, what was applied for, approved and paid, and the budget "
    "left. With `year`, yearly policies count that year's periods.",
    response_model=list[PolicyTotals],
    responses=problem_responses(403, 422),
)
def policy_totals(
    principal: Caller,
    session: SessionDep,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> Any:
    return grants.totals(session, principal, year)
