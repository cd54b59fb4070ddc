"""Half a year of demo activity (``finmatch seed --demo``), so that a first look at the pages
shows the service at work: a few hundred financing needs of the demo library's enterprises
and the leads they made, at every stage.

Everything is made through the use cases, with the principals that would act: the enterprise
posts its need (``matching.service.create_need``; the wired listeners offer it to banks), the
bank views, contacts, approves, disburses or declines a lead, the enterprise withdraws one
(``leads.lifecycle.change_status``; a disbursement makes the loan), the nightly deadline
check flags the leads nobody contacted in time (``leads.deadlines.check_deadlines``). The
steps run in the order of the (simulated) time they happen, so the banks' feed positions
follow it; then their timestamps are moved back to that time with plain UPDATEs (creation,
viewing, first contact, closing, deadline breach, the banks' events, the loans), always
created ≤ viewed ≤ contacted ≤ approved ≤ disbursed.

Some needs reach no bank: no consent to share, nothing eligible (an amount no product lends),
an enterprise registered outside the service area. Banks differ: the demo bank answers within
hours, one bank takes days and misses deadlines. Deterministic (a fixed random seed) and added
once: needs whose note starts with ``DEMO_NOTE`` mark it as done. Where the demo bank's
account managers exist (logins in ``DEMO_MANAGERS``) part of its leads are assigned to them."""

import heapq
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from sqlalchemy import func, update
from sqlmodel import Session, col, select

from service.access.models import Role, UserAccount
from service.access.policy import Principal
from service.core.models import today_local, utcnow
from service.core.settings import get_settings
from service.enterprises.models import Enterprise
from service.leads.deadlines import check_deadlines
from service.leads.lifecycle import change_status
from service.leads.models import BankEvent, Lead
from service.leads.schemas import StatusChange
from service.leads.sla import contact_due_date
from service.leads.states import DeclineReason, LeadStatus
from service.loans.models import Loan
from service.loans.reminders import run_reminders
from service.matching.facts import service_area
from service.matching.models import CollateralOffer, FinancingNeed, NeedPurpose
from service.matching.schemas import NeedCreate
from service.matching.scoring import in_service_area
from service.matching.service import create_need
from service.products.models import Bank, Product

DEMO_NOTE = "【演示】"
DEMO_SEED = 20261203
DEMO_NEEDS = 300
SPAN_DAYS = 180
DEMO_BANK = "jsbank-wx"
SLOW_BANK = "njbank-wx"
DEMO_MANAGERS = ("manager1@jsbank-wx.demo", "manager2@jsbank-wx.demo")

# Hours from a lead's arrival to its first contact, as (median, spread) of a log-normal:
# the demo bank is quick, one bank slow (it often misses the deadline), the others between.
CONTACT_HOURS = {DEMO_BANK: (5.0, 0.8), SLOW_BANK: (110.0, 0.5)}
CONTACT_HOURS_OTHERS = (30.0, 0.9)

NOTES = {
    NeedPurpose.working_capital: "采购原材料，旺季备货",
    NeedPurpose.equipment: "购置数控加工中心两台",
    NeedPurpose.tech_transformation: "产线智能化改造",
    NeedPurpose.rnd: "新产品研发投入",
    NeedPurpose.trade: "出口订单备货",
    NeedPurpose.renewal: "原贷款到期续贷",
    NeedPurpose.project: "新厂房建设",
}
# How often enterprises ask for what, and what they offer as security for it.
PURPOSES = {
    NeedPurpose.working_capital: (48, list(CollateralOffer)),
    NeedPurpose.renewal: (14, [CollateralOffer.guarantee, CollateralOffer.property]),
    NeedPurpose.trade: (8, [CollateralOffer.receivables]),
    NeedPurpose.rnd: (10, [CollateralOffer.ip, CollateralOffer.gov_guarantee]),
    NeedPurpose.equipment: (7, [CollateralOffer.equipment, CollateralOffer.property]),
    NeedPurpose.tech_transformation: (6, [CollateralOffer.property, CollateralOffer.equipment]),
    NeedPurpose.project: (7, [CollateralOffer.property, CollateralOffer.receivables]),
}
DECLINES = (
    (DeclineReason.insufficient_collateral, None),
    (DeclineReason.outside_credit_policy, None),
    (DeclineReason.high_leverage, None),
    (DeclineReason.incomplete_documents, None),
    (DeclineReason.credit_history, None),
    (DeclineReason.enterprise_declined, None),
    (DeclineReason.unreachable, None),
    (DeclineReason.other, "企业已获其他银行授信"),
)
TZ = ZoneInfo("Asia/Shanghai")
# An amount no product of the catalogue lends (50 亿元): the need matches nothing.
UNLENDABLE_FEN = 500_000_000_000


@dataclass(order=True)
class _Step:
    at: datetime
    order: int
    run: Callable[[], None] = field(compare=False)


@dataclass
class _Story:
    """What happens to one lead, and when: the stages it reaches, each with its time."""

    lead_id: int
    created: datetime
    times: list[datetime] = field(default_factory=list)  # one per bank event, in order
    reached: dict[str, datetime] = field(default_factory=dict)  # status -> when
    breached: datetime | None = None  # when the deadline check flagged it


def seed_demo_activity(session: Session) -> Counter:
    """Add the demo activity once (see the module's docstring); the counts of what it added,
    or ``financing_need.unchanged`` when it is there already."""
    counts: Counter = Counter()
    done = session.exec(
        select(func.count())
        .select_from(FinancingNeed)
        .where(col(FinancingNeed.note).startswith(DEMO_NOTE))
    ).one()
    if done:
        counts["financing_need.unchanged"] += done
        return counts
    enterprises = list(session.exec(select(Enterprise).order_by(col(Enterprise.id))).all())
    if not enterprises:
        return counts
    _Activity(session, enterprises, counts).run()
    return counts


class _Activity:
    def __init__(self, session: Session, enterprises: list[Enterprise], counts: Counter) -> None:
        self.session, self.counts = session, counts
        self.rng = random.Random(DEMO_SEED)
        self.now = utcnow()
        self.today = today_local()
        area = service_area()
        self.inside = [e for e in enterprises if in_service_area(e.registered_area_code, area)]
        self.outside = [e for e in enterprises if e not in self.inside]
        self.banks = sorted(
            set(
                session.exec(
                    select(col(Product.bank_code))
                    .join(Bank, col(Bank.code) == col(Product.bank_code))
                    .where(col(Bank.kind) != "fund", col(Bank.code).not_in((DEMO_BANK, SLOW_BANK)))
                ).all()
            )
        )
        self.steps: list[_Step] = []
        self.order = 0
        self.stories: dict[int, _Story] = {}
        self.need_times: dict[int, datetime] = {}
        self.managers = [
            u.id
            for login in DEMO_MANAGERS
            if (u := session.exec(select(UserAccount).where(UserAccount.login == login)).first())
        ]

    # --- the plan -------------------------------------------------------------------------

    def run(self) -> None:
        from service.main import (
            wire,
        )  # the listeners that turn a need into leads, a lead into a loan

        wire()
        engine = self.session.get_bind()
        if engine.dialect.name == "sqlite":
            # A thousand and more small transactions: in WAL mode NORMAL skips the disk sync
            # of each commit (the database stays intact; a power cut may lose the last ones).
            # Outside a transaction, on the connection the session takes back next.
            self.session.commit()
            with engine.connect() as connection:  # type: ignore[union-attr]
                connection.connection.dbapi_connection.execute("PRAGMA synchronous=NORMAL")  # type: ignore[union-attr]
        for i in range(DEMO_NEEDS):
            self._plan_need(i)
        # The deadline check, as the worker runs it: every night, shortly after midnight.
        for days_ago in range(SPAN_DAYS + 1, -1, -1):
            day = self.today - timedelta(days=days_ago)
            at = datetime.combine(day, time(0, 15), TZ).astimezone(UTC)
            self._at(at, partial(self._check_deadlines, day, at))
        while self.steps:
            heapq.heappop(self.steps).run()
        self._backdate()
        reminded = run_reminders(self.session, self.today, trigger="seed")
        self.counts["reminder.created"] += reminded.reminders

    def _at(self, when: datetime, run: Callable[[], None]) -> None:
        self.order += 1
        heapq.heappush(self.steps, _Step(when, self.order, run))

    def _working_time(self, days_ago: float) -> datetime:
        """A moment on a working day's office hours about ``days_ago`` days back, in UTC."""
        day = self.today - timedelta(days=int(days_ago))
        while day.weekday() >= 5:
            day -= timedelta(days=1)
        local = datetime.combine(day, time(8, 30), TZ) + timedelta(
            minutes=self.rng.randint(0, 9 * 60)
        )
        return min(local.astimezone(UTC), self.now - timedelta(minutes=5))

    def _plan_need(self, i: int) -> None:
        rng = self.rng
        posted = self._working_time(rng.uniform(0, SPAN_DAYS))
        kind = rng.random()
        outside = self.outside and i % 60 == 7
        pool = self.outside if outside else self.inside
        enterprise = pool[rng.randrange(len(pool))]
        purpose = rng.choices(list(PURPOSES), [w for w, _ in PURPOSES.values()])[0]
        collateral = rng.choice(PURPOSES[purpose][1])
        amount_wan = rng.choice((100, 150, 200, 300, 300, 500, 500, 800))
        if collateral in (CollateralOffer.property, CollateralOffer.receivables):
            amount_wan = rng.choice((300, 500, 1000, 1500, 2000))
        data: dict[str, Any] = {
            "enterprise_id": enterprise.id,
            "amount_fen": amount_wan * 1_000_000,
            "term_months": rng.choice((6, 12, 12, 12, 24, 36)),
            "purpose": purpose,
            "collateral": [collateral],
            "consent_share_details": kind >= 0.12,
            "max_banks": rng.choice((1, 2, 2, 3)),
            "note": DEMO_NOTE + NOTES[purpose],
        }
        if 0.12 <= kind < 0.18:  # nothing eligible
            data["amount_fen"] = UNLENDABLE_FEN
        elif rng.random() < 0.3:  # the enterprise chose banks: the demo bank, the slow one
            data["bank_codes"] = [DEMO_BANK, SLOW_BANK, *rng.sample(self.banks, 2)]
            data["max_banks"] = 2
        self._at(posted, lambda: self._post(data, posted))

    def _post(self, data: dict, posted: datetime) -> None:
        enterprise = Principal(role=Role.enterprise, enterprise_id=data["enterprise_id"])
        need = create_need(self.session, NeedCreate.model_validate(data), enterprise)
        assert need.id is not None
        self.need_times[need.id] = posted
        self.counts["financing_need.created"] += 1
        leads = self.session.exec(select(Lead).where(Lead.need_id == need.id)).all()
        workdays = get_settings().sla_contact_working_days
        for lead in leads:
            created = posted + timedelta(seconds=self.rng.randint(5, 90))
            # Due as if made then (the nightly deadline check reads it).
            lead.contact_due_date = contact_due_date(created.astimezone(TZ).date(), workdays)
            self._plan_lead(lead, created)
        self.session.commit()

    def _plan_lead(self, lead: Lead, created: datetime) -> None:
        """Draw the lead's story (how far it gets, and when) and queue its steps."""
        assert lead.id is not None
        rng = self.rng
        self.counts["lead.created"] += 1
        story = self.stories[lead.id] = _Story(lead.id, created, [created])
        median, spread = CONTACT_HOURS.get(lead.bank_code, CONTACT_HOURS_OTHERS)
        contact = created + timedelta(hours=rng.lognormvariate(0, spread) * median)
        viewed = created + (contact - created) * rng.uniform(0.1, 0.6)
        approved = contact + timedelta(days=rng.uniform(4, 20))
        disbursed = approved + timedelta(days=rng.uniform(2, 12))
        fate = rng.random()
        bank = Principal(role=Role.bank, bank_code=lead.bank_code)
        enterprise = Principal(role=Role.enterprise, enterprise_id=lead.enterprise_id)
        plan: list[tuple[datetime, Principal, StatusChange]] = []
        if fate < 0.08:  # never touched: past its deadline when old enough
            pass
        elif fate < 0.14:
            plan.append((viewed, bank, StatusChange(status=LeadStatus.viewed)))
        elif fate < 0.20:  # declined on reading it: not for this bank
            plan.append((viewed, bank, StatusChange(status=LeadStatus.viewed)))
            reason = rng.choice((DeclineReason.outside_credit_policy, DeclineReason.duplicate))
            ends = viewed + (contact - viewed) * rng.uniform(0.2, 0.9)
            plan.append((ends, bank, StatusChange(status=LeadStatus.declined, reason=reason)))
        else:
            plan.append((viewed, bank, StatusChange(status=LeadStatus.viewed)))
            plan.append((contact, bank, StatusChange(status=LeadStatus.contacted)))
            if fate < 0.27:
                ends = contact + timedelta(days=rng.uniform(1, 15))
                plan.append((ends, enterprise, StatusChange(status=LeadStatus.withdrawn)))
            elif fate < 0.50:
                reason, note = DECLINES[rng.randrange(len(DECLINES))]
                ends = contact + timedelta(days=rng.uniform(1, 12))
                change = StatusChange(status=LeadStatus.declined, reason=reason, note=note)
                plan.append((ends, bank, change))
            elif fate < 0.60:
                pass  # still talking
            else:
                lead_amount = min(
                    self._need_amount(lead), rng.choice((200, 300, 500, 800, 1000)) * 1_000_000
                )
                rate = rng.randrange(280, 460, 5)
                term = rng.choice((6, 12, 12, 24))
                approve = StatusChange(
                    status=LeadStatus.approved,
                    amount_fen=lead_amount,
                    rate_bp=rate,
                    term_months=term,
                    on_date=approved.astimezone(TZ).date(),
                )
                plan.append((approved, bank, approve))
                if fate >= 0.72:
                    day = disbursed.astimezone(TZ).date()
                    # A loan paid out half a year ago on 6 months matures within the
                    # reminder window; one that would have matured already runs a year.
                    if day + relativedelta(months=term) <= self.today:
                        term = 12 if day + relativedelta(months=12) > self.today else 24
                    # Some short loans mature within the reminder window (renewals to come).
                    soon = rng.random() < 0.3
                    pay = StatusChange(
                        status=LeadStatus.disbursed,
                        amount_fen=lead_amount,
                        rate_bp=rate,
                        term_months=term,
                        on_date=day,
                        maturity_date=self.today + timedelta(days=rng.randint(5, 75))
                        if soon
                        else None,
                        contract_no=f"LN{day:%Y%m}{lead.id:05d}",
                    )
                    plan.append((disbursed, bank, pay))
        if self.managers and lead.bank_code == DEMO_BANK and rng.random() < 0.7:
            self._assign(lead, self.managers[lead.id % len(self.managers)], created)
        for at, who, change in plan:
            if at >= self.now:
                break  # the rest of its story has not happened yet
            self._at(at, partial(self._step, story, who, change, at))

    def _need_amount(self, lead: Lead) -> int:
        need = self.session.get(FinancingNeed, lead.need_id)
        assert need is not None
        return need.amount_fen

    def _assign(self, lead: Lead, user_id: int | None, created: datetime) -> None:
        lead.assignee_user_id = user_id
        lead.assigned_at = min(created + timedelta(minutes=self.rng.randint(10, 120)), self.now)
        self.session.add(lead)
        self.session.commit()
        self.counts["lead.assigned"] += 1

    def _step(self, story: _Story, who: Principal, change: StatusChange, at: datetime) -> None:
        change_status(self.session, who, story.lead_id, change)
        story.times.append(at)
        story.reached[str(change.status)] = at
        self.counts[f"lead.{change.status}"] += 1

    # --- the clock turned back -------------------------------------------------------------

    def _backdate(self) -> None:
        session = self.session
        for need_id, posted in self.need_times.items():
            session.execute(
                update(FinancingNeed)
                .where(col(FinancingNeed.id) == need_id)
                .values(created_at=posted, updated_at=posted)
            )
        for story in self.stories.values():
            lead = session.get(Lead, story.lead_id)
            assert lead is not None
            times = story.reached
            last = story.times[-1]
            values: dict = {
                "created_at": story.created,
                "updated_at": last,
                "sla_breached_at": story.breached,
            }
            contacted = times.get(str(LeadStatus.contacted))
            values["first_contact_at"] = contacted if lead.first_contact_at else None
            viewed = times.get(str(LeadStatus.viewed))
            if lead.viewed_at is not None:
                values["viewed_at"] = viewed or contacted
            if lead.closed_at is not None:
                values["closed_at"] = last
            session.execute(update(Lead).where(col(Lead.id) == lead.id).values(**values))
            events = session.exec(
                select(BankEvent).where(BankEvent.lead_id == lead.id).order_by(col(BankEvent.seq))
            ).all()
            for event, at in zip(events, story.times, strict=False):
                event.occurred_at = at
            loan = session.exec(select(Loan).where(Loan.lead_id == lead.id)).first()
            if loan is not None:
                loan.created_at = last
                self.counts["loan.created"] += 1
        session.commit()

    def _check_deadlines(self, day: date, at: datetime) -> None:
        """The night's deadline check; the leads it flags were flagged at ``at``."""
        check_deadlines(self.session, day)
        flagged = self.session.exec(
            select(col(Lead.id)).where(
                col(Lead.sla_breached_at).is_not(None), col(Lead.id).in_(list(self.stories))
            )
        ).all()
        for lead_id in flagged:
            assert lead_id is not None
            story = self.stories[lead_id]
            if story.breached is None:
                story.breached = at
                story.times.append(at)  # its bank was told (lead.sla_breached)
                self.counts["lead.sla_breached"] += 1
