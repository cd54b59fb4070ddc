"""Policies listen to the library and the loans: a change queues the enterprises it touches
for re-evaluation (run as jobs after the commit); the library is re-evaluated daily."""

from service.access import audit
from service.core.events import subscribe
from service.jobs.service import register, register_periodic
from service.policies import jobs
from service.policies.models import Policy, PolicyGrant, PolicyVersion


def connect() -> None:
    audit.audit(Policy, "policy")
    audit.audit(PolicyVersion, "policy_version")
    audit.audit(PolicyGrant, "policy_grant")
    subscribe("enterprise.changed", jobs.on_enterprise_changed)
    subscribe("enterprises.changed", jobs.on_enterprises_changed)
    subscribe("projects.changed", jobs.on_projects_changed)
    subscribe("loans.changed", jobs.on_loans_changed)
    for kind in jobs.TRIGGERS:
        register(kind, jobs.handler_for(kind), batch=jobs.BATCH)
    register(jobs.EVALUATE_ALL, jobs.run_all)
    register(jobs.DAILY, jobs.run_daily)
    register_periodic(jobs.DAILY, 24 * 3600)
