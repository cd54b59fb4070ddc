"""Requests are audited as every changed record is; the overdue check is a periodic job."""

from service.access import audit
from service.appeals import escalation
from service.appeals.models import Appeal, AppealCategory, Department, ServiceRating
from service.jobs.service import register, register_periodic


def connect() -> None:
    audit.audit(Appeal, "appeal")
    audit.audit(Department, "department")
    audit.audit(AppealCategory, "appeal_category")
    audit.audit(ServiceRating, "service_rating")
    register(escalation.OVERDUE_CHECK, escalation.run_overdue_check)
    register_periodic(escalation.OVERDUE_CHECK, 15 * 60)  # due dates are whole days
