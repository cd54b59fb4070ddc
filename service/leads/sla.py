"""First-contact deadlines of leads, on China's working-day calendar
(``service.taxonomy.workdays``). Pure: no database, no I/O."""

from datetime import date

from service.taxonomy.workdays import add_working_days


def contact_due_date(created_on: date, n: int) -> date:
    """Last day for the first contact with a lead created on ``created_on``, given n working
    days: the day the lead arrives does not count, whatever hour it came in."""
    return add_working_days(created_on, n)


def is_breached(due: date, first_contact_on: date | None, today: date) -> bool:
    """Breached when the first contact did not happen by the end of ``due``. A lead still
    uncontacted on ``due`` itself is not breached yet."""
    if first_contact_on is not None:
        return first_contact_on > due
    return today > due
