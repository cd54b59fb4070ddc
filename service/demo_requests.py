"""The demo's requests (诉求) and satisfaction ratings (``finmatch seed --demo``, after the
demo activity): about three dozen requests over the last two quarters, of every kind and in
every status, and the enterprises' ratings of a good share of the ended leads.

Made through the use cases, by the principals that would act (``raise_appeal``, ``take_step``,
``rate_lead``; the overdue check every night, as the worker runs it), in the order of the
(simulated) time they happen; after each step what it wrote just now is moved back to that
time with plain UPDATEs, as ``demo_activity`` does: the request's timestamps, its events, the
banks' events, audit entries and ratings, a dispatch's date and due date (the category's
working days from then), and whether an answer came in time. The demo enterprise user's
enterprise has requests in several states (one closed, awaiting its confirmation); the demo
bank has some dispatched to it, one overdue. Deterministic (a fixed random seed) and added
once: a database that has requests or ratings already is left as it is."""

import heapq
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, update
from sqlmodel import Session, col, select

from service.access.models import AuditEntry, Role, UserAccount
from service.access.policy import Principal
from service.appeals.escalation import check_overdue
from service.appeals.kinds import AppealKind, ChargeItem, ChargeRule
from service.appeals.models import Appeal, AppealCategory, AppealEvent, ServiceRating
from service.appeals.ratings import rate_lead
from service.appeals.schemas import AppealCreate, AppealStep, RatingCreate
from service.appeals.service import raise_appeal
from service.appeals.states import Action, AppealStatus
from service.appeals.steps import counted_due, take_step
from service.core.models import today_local, utcnow
from service.demo_activity import DEMO_BANK, SLOW_BANK
from service.enterprises.models import Enterprise
from service.leads.models import BankEvent, Lead
from service.leads.states import TERMINAL, LeadStatus
from service.loans.models import Loan
from service.taxonomy.workdays import is_working_day

DEMO_SEED = 20261204
DEMO_ENTERPRISE_LOGIN = "ent001@demo.finmatch.cn"
SPAN_DAYS = 185
LEAD_RATING_SHARE = 0.45
TZ = ZoneInfo("Asia/Shanghai")
K, R, C = AppealKind, ChargeRule, ChargeItem

# The steps of each path after raising: (action, fewest days, most days) after the last one.
_A, _D = ("accept", 0.1, 1.5), ("dispatch", 0.0, 0.8)
_ANS, _CLO, _CON = ("answer", 1.0, 4.0), ("close", 0.5, 3.0), ("confirm", 0.5, 4.0)
PATHS: dict[str, list[tuple[str, float, float]]] = {
    "raised": [],
    "accepted": [_A],
    "dispatched": [_A, _D],
    "answered": [_A, _D, _ANS],
    "late": [_A, _D, ("answer", 20.0, 26.0)],  # escalated by the night's check first
    "closed": [_A, _D, _ANS, _CLO],
    "confirmed": [_A, _D, _ANS, _CLO, _CON],
    "late_confirmed": [_A, _D, ("answer", 20.0, 26.0), _CLO, _CON],
    "direct": [_A, ("close", 1.0, 3.0), _CON],
    "reopened": [_A, _D, _ANS, _CLO, ("reopen", 1.0, 3.0)],
    "reopened_once": [_A, _D, _ANS, _CLO, ("reopen", 1.0, 3.0), _D, _ANS, _CLO, _CON],
    "sent_back": [_A, _D, _ANS, ("dispatch", 0.5, 1.5), _ANS, _CLO, _CON],
    "rejected": [("reject", 0.5, 2.0)],
    "merged": [("merge", 0.5, 1.5)],
    "withdrawn": [_A, ("withdraw", 1.0, 4.0)],
}


@dataclass
class Story:
    """One demo request: who raises it about what, how far it gets, and what is said."""

    kind: AppealKind
    path: str
    days_ago: float  # when it was raised
    title: str
    description: str
    category: str = "other"
    handler: str = "bank"  # the bank concerned, or a department's code
    bank: str = "any"  # demo | slow | any | none: which bank it concerns
    demo: bool = False  # the demo enterprise user's enterprise raises it
    show: bool = True
    rule: ChargeRule | None = None
    item: ChargeItem | None = None
    amount_wan: float | None = None
    answer: str = "已安排客户经理与企业联系，核实情况后按规定处理。"
    result: str = "经协调，银行已与企业沟通并说明情况，企业诉求已得到回应。"
    rating: int = 4
    comment: str = ""
    reason: str = ""  # of a rejection, a reopening or a withdrawal
    duplicate_of: int | None = None  # index of the story a merge goes into


# One line of arguments per story, so that the table reads as a table.
# fmt: off
STORIES: list[Story] = [
    # The demo enterprise user's enterprise.
    Story(K.unreasonable_charge, "closed", 24, "贷款时被要求购买理财产品",
       "今年申请流动资金贷款时，客户经理说要先购买{amount}的理财产品才能放款，否则额度要打折扣。我们资金本来就紧张，希望核实是否属于搭售。",
       category="charges", bank="demo", demo=True, rule=R.tied_sale, item=C.other, amount_wan=20,
       answer="经核查，客户经理推荐理财产品属个人行为，支行已对其批评教育，企业可随时赎回且不影响授信额度。",
       result="银行承认存在搭售行为，已允许企业提前赎回理财产品并退还手续费，对相关客户经理进行了通报。"),
    Story(K.unmatched_need, "dispatched", 3.5, "技改贷款找不到合适的银行产品",
       "我们计划更新两条注塑生产线，需要中长期贷款约800万元，在平台上发布需求后只有一家银行看过，没有下文。希望帮助对接有技改专项产品的银行。",
       category="financing", handler="wx-gxj", bank="none", demo=True),
    Story(K.rate_above_offer, "confirmed", 120, "实际利率高于审批时承诺",
       "审批时银行告知年利率{offered}，签合同时执行利率变成{charged}，客户经理解释为系统定价调整，但事先没有告知。",
       category="pricing", bank="demo", demo=True, rating=4, comment="处理结果满意，多收的利息已经退回，就是答复稍慢了点。",
       answer="经核实，系合同录入时套用了错误的定价档次，已按审批利率重新签订补充协议，多收利息将于下一结息日退回。",
       result="银行已按承诺利率调整并退还多收利息。"),
    Story(K.other, "raised", 1.2, "咨询科技型企业贷款贴息政策",
       "我们去年被认定为高新技术企业，想了解市里对科技型中小企业贷款贴息的申报条件和时间，以及需要准备哪些材料。",
       bank="none", demo=True),
    Story(K.renewal_refused, "withdrawn", 40, "续贷被要求先还后贷",
       "公司一笔贷款下月到期，银行要求先筹钱还清再重新申请，中间至少间隔一周。我们没有这么多自有资金周转，希望办理无还本续贷。",
       category="renewal", bank="demo", demo=True, reason="银行已同意办理无还本续贷，问题已解决，撤回诉求。"),
    Story(K.unmatched_need, "merged", 2.2, "技改贷款需求仍无银行对接",
       "前几天提交的技改贷款需求还没有银行联系，再提交一次，请尽快帮忙对接。",
       category="financing", bank="none", demo=True, duplicate_of=1),
    # Waiting for triage, accepted.
    Story(K.slow_response, "raised", 0.8, "申请锡科贷两周无人联系",
       "两周前在平台上申请了锡科贷，显示银行已查看，但一直没有客户经理联系我们，打支行电话也说不清楚进度。",
       bank="slow"),
    Story(K.unreasonable_charge, "raised", 2.0, "评估费由企业承担",
       "用厂房抵押贷款，银行指定的评估公司收了{amount}评估费，要求企业支付，听说按规定抵押物评估费应由银行承担。",
       rule=R.cost_passed_on, item=C.appraisal, amount_wan=1.8),
    Story(K.renewal_refused, "accepted", 4.0, "续贷被要求增加抵押物",
       "原来是信用贷款，续贷时银行突然要求增加房产抵押，企业经营正常、没有逾期，不理解为什么收紧。",
       category="renewal"),
    Story(K.other, "accepted", 3.0, "政府性融资担保费补贴如何申请",
       "我们通过市融资担保公司担保贷款，想了解担保费补贴的申请流程。",
       category="policy", bank="none"),
    # Dispatched, some of them overdue.
    Story(K.unreasonable_charge, "dispatched", 2.5, "收费项目没有公示",
       "办理贷款时银行收取了账户管理费和结算手续费，但网点和官网都找不到收费标准，客户经理也说不清依据。",
       category="charges", bank="demo", rule=R.fees_public, item=C.other, amount_wan=0.6, show=False),
    Story(K.unmatched_need, "dispatched", 2.0, "首贷企业申请信用贷款没有银行受理",
       "我们是成立三年的软件企业，没有抵押物，发布了200万元信用贷款需求，两家银行都说不符合条件。",
       category="financing", handler="wx-jrj", bank="none"),
    Story(K.renewal_refused, "dispatched", 32, "续贷审批迟迟没有结果",
       "贷款到期前一个月提交了续贷材料，银行说在审批，现在离到期只剩几天了还没有结果，担心资金链断裂。",
       category="renewal", bank="demo"),
    Story(K.slow_response, "dispatched", 27, "线索超过一周无人联系",
       "在平台上选择了这家银行，系统显示已推送，一周多了没有任何人联系，急需采购原材料的资金。",
       category="service", bank="slow", show=False),
    Story(K.other, "dispatched", 45, "贷款贴息资金迟迟未到账",
       "去年申请的技改贷款贴息已经公示，但半年了资金还没有拨付，也不知道找哪个部门问。",
       category="policy", handler="wx-czj", bank="none"),
    # Answered (one late, after its escalation).
    Story(K.rate_above_offer, "answered", 8, "放款利率比批复的高",
       "批复时说年利率{offered}，放款后合同显示{charged}，希望银行给个说法。",
       category="pricing"),
    Story(K.slow_response, "late", 40, "贷款申请一个多月没有进展",
       "一个多月前提交了贷款申请，客户经理换了两次，每次都要重新提交材料，到现在还没有审批结果。",
       category="service", bank="slow", answer="因支行人员调整导致对接中断，已指定专人跟进，本周内完成审批。"),
    # Closed, awaiting the enterprise's confirmation.
    Story(K.unreasonable_charge, "closed", 14, "被收取财务顾问费",
       "贷款发放时银行要求与其合作的咨询公司签订财务顾问协议，收取{amount}顾问费，但没有提供任何实际服务。",
       category="charges", rule=R.fee_without_service, item=C.consulting, amount_wan=5,
       answer="经核查，该顾问费确无实际服务内容，已责成退还。",
       result="银行已退还全部顾问费，并承诺今后不再要求企业签订此类协议。"),
    Story(K.unmatched_need, "closed", 20, "出口企业需要订单融资",
       "我们有一批出口订单，需要300万元备货资金，希望对接能做订单融资或出口信用保险保单融资的银行。",
       category="financing", handler="wx-jrj", bank="none", answer="已组织三家银行与企业对接，其中一家已上门调研。"),
    # Confirmed, with every rating.
    Story(K.unreasonable_charge, "confirmed", 150, "贷款要求转存一部分作为保证金",
       "申请500万元贷款，银行要求把其中100万元存成定期存单质押，实际只能用400万元却要付500万元的利息。",
       category="charges", rule=R.loan_to_deposit, item=C.other, amount_wan=100, rating=5,
       answer="经核实，支行要求存单质押不符合规定，已解除质押。",
       result="银行已解除存单质押，企业可全额使用贷款。", comment="金融办介入后一周就解决了，非常感谢！"),
    Story(K.unmatched_need, "confirmed", 140, "小微企业想申请普惠贷款不知找哪家",
       "我们是锡山区的小型五金加工企业，想申请100万元左右的流动资金贷款，不了解哪家银行有合适的普惠产品。",
       category="financing", handler="wx-jrj", bank="none", rating=5,
       answer="已推荐两家银行的普惠产品并组织对接，企业已提交申请。",
       result="企业已获得一家银行120万元授信。", comment="对接很及时，银行第二天就上门了。"),
    Story(K.renewal_refused, "confirmed", 100, "续贷被要求先还后贷",
       "贷款到期银行要求我们先还款再续贷，说无还本续贷名额用完了。我们只能去借过桥资金，成本很高。",
       category="renewal", rating=4, answer="经复核，企业符合无还本续贷条件，已为其办理。",
       result="银行已为企业办理无还本续贷。", comment="问题解决了，希望以后续贷不用再找金融办。"),
    Story(K.slow_response, "confirmed", 90, "贷款审批时间太长",
       "提交材料后等了三周还没批下来，每次问都说在走流程。",
       category="service", rating=3, answer="已加快审批，现已完成授信审批。",
       result="银行已完成审批并放款。", comment="最后是批下来了，但整个过程还是太慢。"),
    Story(K.rate_above_offer, "late_confirmed", 110, "合同利率高于宣传的优惠利率",
       "银行宣传科技型企业可享受{offered}的优惠利率，我们符合条件，但合同执行的是{charged}。",
       category="pricing", bank="slow", rating=2, answer="经核实，企业符合优惠条件，已下调利率。",
       result="银行已按优惠利率执行。", comment="拖了很久才答复，督办以后才有人管。"),
    Story(K.unreasonable_charge, "confirmed", 75, "担保费全部由企业承担",
       "银行指定担保公司提供担保，担保费按贷款金额2%收取，共{amount}，全部由企业承担。",
       category="charges", rule=R.cost_passed_on, item=C.guarantee, amount_wan=8, rating=1,
       answer="担保费由担保公司按市场标准收取，银行未从中获利，不属于违规收费。",
       result="银行说明担保费系担保公司收取，不属于银行收费；已建议企业选用政府性融资担保，费率较低。",
       comment="答复没有解决问题，担保公司是银行指定的，费用还是我们出。"),
    Story(K.other, "direct", 60, "咨询知识产权质押融资政策",
       "我们有十几项发明专利，想了解知识产权质押贷款的办理流程和政府补贴。",
       category="policy", bank="none", rating=4, comment="讲解很清楚。",
       result="已电话告知企业办理流程和补贴政策，并推荐了两家开办此业务的银行。"),
    Story(K.unreasonable_charge, "confirmed", 55, "办理贷款被搭售保险",
       "贷款时被要求购买一份{amount}的意外险和财产险，不买就不给放款。",
       category="charges", rule=R.tied_sale, item=C.insurance, amount_wan=1.2, rating=5,
       answer="经查属实，已为企业办理退保，全额退还保费。",
       result="保费已全额退还，银行已对相关人员问责。", comment="保费已经退回来了，处理很到位。"),
    Story(K.rate_above_offer, "reopened_once", 95, "实际利率高于承诺利率",
       "客户经理承诺年利率{offered}，放款后执行{charged}。",
       category="pricing", rating=3, answer="利率系按企业评级定价，符合规定。",
       reason="答复只说符合规定，没有解释为什么和承诺的不一样，请再核实。",
       comment="第二次答复说清楚了，利率也降了一些，但没有完全按承诺执行。"),
    Story(K.unreasonable_charge, "sent_back", 80, "借款合同公证费要求企业支付",
       "银行要求对借款合同办理公证，公证费{amount}由企业承担。",
       category="charges", rule=R.cost_passed_on, item=C.notarisation, amount_wan=0.5, rating=4,
       answer="公证为银行风控要求，费用已按规定由银行承担并退还企业。",
       comment="第一次答复不清楚，退回后银行退还了公证费。"),
    # Reopened, rejected, withdrawn.
    Story(K.unreasonable_charge, "reopened", 30, "利率上浮后又收取额外手续费",
       "贷款利率已经上浮到顶，银行还要另收一笔{amount}的融资服务费。",
       category="charges", rule=R.rate_split_as_fee, item=C.other, amount_wan=3,
       result="银行已说明服务费系第三方收取。",
       reason="服务费是银行客户经理让付的，第三方也是银行介绍的，不认可这个结果。"),
    Story(K.other, "rejected", 35, "要求政府帮忙归还到期贷款",
       "公司经营困难，贷款下个月到期，希望政府出钱帮我们还贷。",
       bank="none", reason="政府不能代企业偿还贷款；如需周转，可申请市中小企业转贷应急资金，已告知申请方式。"),
    Story(K.unmatched_need, "rejected", 18, "需要融资",
       "需要资金。",
       bank="none", reason="诉求内容过于简略，无法判断融资需求；请在平台上发布融资需求，写明金额、期限和用途后再提出。"),
    Story(K.slow_response, "withdrawn", 12, "银行一直不联系",
       "发布需求五天了，银行没有联系。",
       reason="银行客户经理今天已经联系我们了，撤回诉求。"),
]
LEAD_COMMENTS = {
    5: ["客户经理响应很快，材料一次讲清楚，放款及时。", "利率比预期还低，流程顺畅。", "上门服务，专业又耐心。"],
    4: ["整体满意，审批时间稍长。", "服务不错，就是补材料来回了两次。", "虽然没批下来，但客户经理把原因讲得很清楚。"],
    3: ["一般，联系上之后进度较慢。", "利率优惠没有宣传的那么多。"],
    2: ["等了一周多才有人联系。", "要求提供的材料太多，反复跑了好几趟。"],
    1: ["提交后一直没人联系，最后也没有说明原因。", "拒贷理由讲不清楚，体验很差。"],
}
# What a step writes with the time it happened: the logs (by id), the request's timestamps.
_LOGS = ((AppealEvent, "at"), (BankEvent, "occurred_at"), (AuditEntry, "at"), (ServiceRating, "created_at"))
_TIMES = ("created_at", "updated_at", "answered_at", "closed_at", "confirmed_at", "ended_at", "escalated_at")
BANK_ANSWER = "已安排客户经理与企业联系，核实情况后按规定处理。"
SECOND_ANSWER = "经重新核实，审批利率以批复为准，已按批复利率调整并退还多收利息。"
REJECT_DEFAULT, MERGE_NOTE = "不属于本平台受理范围，已告知企业其他反映渠道。", "与此前提出的诉求重复，合并办理。"
# fmt: on

# Mean score of a lead's rating per bank (others drawn per bank), lower when it was declined.
BANK_MEAN = {DEMO_BANK: 4.5, SLOW_BANK: 2.6}


@dataclass(order=True)
class _Step:
    at: datetime
    order: int
    run: Callable[[], None] = field(compare=False)


def seed_demo_requests(session: Session) -> Counter:
    """Add the demo's requests and ratings once (see the module's docstring); the counts of
    what it added, or ``appeal.unchanged`` when the database has some already."""
    counts: Counter = Counter()
    there = session.exec(select(func.count()).select_from(Appeal)).one()
    there += session.exec(select(func.count()).select_from(ServiceRating)).one()
    if there:
        counts["appeal.unchanged"] += there
        return counts
    enterprises = list(session.exec(select(Enterprise).order_by(col(Enterprise.id))).all())
    if not enterprises or session.get(AppealCategory, "other") is None:
        return counts
    _Requests(session, enterprises, counts).run()
    return counts


class _Requests:
    def __init__(self, session: Session, enterprises: list[Enterprise], counts: Counter) -> None:
        self.session, self.counts = session, counts
        self.rng = random.Random(DEMO_SEED)
        self.now, self.today = utcnow(), today_local()
        self.enterprises = enterprises
        user = session.exec(
            select(UserAccount).where(UserAccount.login == DEMO_ENTERPRISE_LOGIN)
        ).first()
        self.demo_enterprise = (user.enterprise_id if user else None) or enterprises[0].id
        self.demo_user = user.id if user else None
        self.leads = list(session.exec(select(Lead).order_by(col(Lead.id))).all())
        self.loans = list(session.exec(select(Loan).order_by(col(Loan.id))).all())
        self.lending = sorted({lead.bank_code for lead in self.leads} or {DEMO_BANK})
        self.days = {c.code: c.due_working_days for c in session.exec(select(AppealCategory))}
        self.used: set[tuple[str, int]] = set()
        self.ids: dict[int, int] = {}  # story index -> request id
        self.answers: Counter = Counter()  # story index -> answers given so far
        self.steps: list[_Step] = []
        self.order = 0

    def run(self) -> None:
        engine = self.session.get_bind()
        if engine.dialect.name == "sqlite":  # a few hundred small commits: as demo_activity
            self.session.commit()
            with engine.connect() as connection:  # type: ignore[union-attr]
                connection.connection.dbapi_connection.execute("PRAGMA synchronous=NORMAL")  # type: ignore[union-attr]
        for i, story in enumerate(STORIES):
            self._plan_story(i, story)
        self._plan_lead_ratings()
        for days_ago in range(SPAN_DAYS, -1, -1):  # the overdue check, every night
            day = self.today - timedelta(days=days_ago)
            at = datetime.combine(day, time(0, 15), TZ).astimezone(UTC)
            if at < self.now:
                self._at(at, partial(self._check_overdue, at))
        while self.steps:
            heapq.heappop(self.steps).run()

    def _at(self, when: datetime, run: Callable[[], None]) -> None:
        self.order += 1
        heapq.heappush(self.steps, _Step(when, self.order, run))

    def _office_time(self, at: datetime, after: datetime | None = None) -> datetime:
        """``at`` moved onto a working day's office hours, after ``after``, before now."""
        local = at.astimezone(TZ)
        day = local.date()
        while not is_working_day(day):
            day += timedelta(days=1)
        if day != local.date() or not time(8, 30) <= local.time() <= time(17, 30):
            local = datetime.combine(day, time(8, 30), TZ) + timedelta(
                minutes=self.rng.randint(0, 9 * 60)
            )
        out = local.astimezone(UTC)
        if after is not None and out <= after:
            out = after + timedelta(minutes=self.rng.randint(20, 120))
        return min(out, self.now - timedelta(minutes=5)).replace(second=0, microsecond=0)

    # --- the plan -------------------------------------------------------------------------

    def _plan_story(self, index: int, story: Story) -> None:
        rng = self.rng
        raised = self._office_time(self.now - timedelta(days=story.days_ago))
        data = self._subject(story, raised)
        times = [raised]
        for _action, low, high in PATHS[story.path]:
            times.append(
                self._office_time(times[-1] + timedelta(days=rng.uniform(low, high)), times[-1])
            )
        self._at(raised, partial(self._raise, index, story, data, raised))
        for (action, _, _), at in zip(PATHS[story.path], times[1:], strict=True):
            self._at(at, partial(self._step, index, story, Action(action), data, at))

    def _subject(self, story: Story, raised: datetime) -> dict[str, Any]:
        """Whose request, about which bank, lead or loan: a lead or loan of the enterprise
        that fits the kind, ended before the request was raised, when there is one."""
        rng = self.rng
        want = {"demo": DEMO_BANK, "slow": SLOW_BANK}.get(story.bank)
        enterprise = self.demo_enterprise if story.demo else None
        data: dict[str, Any] = {"kind": story.kind, "show_to_bank": story.show}
        if story.bank == "none":
            pool = [e.id for e in self.enterprises]
            data["enterprise_id"] = enterprise or pool[rng.randrange(len(pool))]
            return data
        found: tuple[str, Any] | None = None
        if story.kind == K.renewal_refused:
            loans = [
                n
                for n in self.loans
                if (want is None or n.bank_code == want)
                and (enterprise is None or n.enterprise_id == enterprise)
                and n.disbursed_date < raised.date() - timedelta(days=30)
                and ("loan", n.id) not in self.used
            ]
            if loans:
                found = ("loan", loans[rng.randrange(len(loans))])
        else:
            leads = [
                lead
                for lead in self.leads
                if (want is None or lead.bank_code == want)
                and (enterprise is None or lead.enterprise_id == enterprise)
                and ("lead", lead.id) not in self.used
                and _fits(story.kind, lead, raised)
            ]
            if leads:
                found = ("lead", leads[rng.randrange(len(leads))])
        if found is not None:
            what, row = found
            self.used.add((what, row.id))
            data["enterprise_id"], data[f"{what}_id"] = row.enterprise_id, row.id
            bank = row.bank_code
        else:
            bank = want or self.lending[rng.randrange(len(self.lending))]
            pool = [e.id for e in self.enterprises]
            data["enterprise_id"] = enterprise or pool[rng.randrange(len(pool))]
            data["bank_code"] = bank
        if story.kind == K.rate_above_offer:
            lead = next((x for x in self.leads if x.id == data.get("lead_id")), None)
            offered = (lead.disbursed_rate_bp if lead else None) or rng.randrange(330, 420, 5)
            data["offered_rate_bp"] = offered
            data["charged_rate_bp"] = offered + rng.randrange(35, 130, 5)
        if story.rule is not None:
            data["charge_rule"], data["charge_item"] = story.rule, story.item
            if story.amount_wan is not None:
                data["charge_amount_fen"] = int(story.amount_wan * 1_000_000)
        data["bank"] = bank
        return data

    def _plan_lead_ratings(self) -> None:
        """The enterprises rate a good share of the ended leads, each bank as it served."""
        rng = random.Random(DEMO_SEED + 1)
        means = {code: rng.uniform(3.3, 4.4) for code in self.lending} | BANK_MEAN
        for lead in self.leads:
            if LeadStatus(lead.status) not in TERMINAL or lead.closed_at is None:
                continue
            if rng.random() >= LEAD_RATING_SHARE and lead.enterprise_id != self.demo_enterprise:
                continue
            mean = means.get(lead.bank_code, 3.8) - (
                0.9 if lead.status == LeadStatus.declined else 0
            )
            score = max(1, min(5, round(rng.gauss(mean, 0.7))))
            comment = rng.choice(LEAD_COMMENTS[score]) if rng.random() < 0.6 else None
            if comment and "没批下来" in comment and lead.status != LeadStatus.declined:
                comment = None
            at = self._office_time(
                lead.closed_at + timedelta(days=rng.uniform(0.3, 12)), lead.closed_at
            )
            if at <= lead.closed_at:
                continue  # it ended only minutes ago
            data = RatingCreate(
                lead_id=lead.id or 0, score=score, comment=comment, show_name=rng.random() < 0.5
            )
            self._at(at, partial(self._rate_lead, lead.enterprise_id, data, at))

    # --- the steps, each at its time --------------------------------------------------------

    def _enterprise(self, enterprise_id: int) -> Principal:
        user = self.demo_user if enterprise_id == self.demo_enterprise else None
        return Principal(role=Role.enterprise, enterprise_id=enterprise_id, user_id=user)

    def _raise(self, index: int, story: Story, data: dict[str, Any], at: datetime) -> None:
        fields = {k: v for k, v in data.items() if k not in ("bank", "enterprise_id")}
        fields["title"] = story.title
        fields["description"] = _fill(story.description, data)
        marks = self._marks()
        row = raise_appeal(
            self.session, self._enterprise(data["enterprise_id"]), AppealCreate(**fields)
        )
        assert row.id is not None
        self.ids[index] = row.id
        self.counts["appeal.created"] += 1
        self._settle(marks, at)

    def _step(
        self, index: int, story: Story, action: Action, data: dict[str, Any], at: datetime
    ) -> None:
        """One step after raising, by the one it falls to."""
        who, texts = (
            Principal(role=Role.office),
            {
                Action.accept: "已受理，转相关单位办理。",
                Action.reject: story.reason or REJECT_DEFAULT,
                Action.merge: MERGE_NOTE,
                Action.answer: story.answer,
                Action.close: story.result,
                Action.confirm: story.comment or None,
            },
        )
        fields: dict[str, Any] = {"text": texts.get(action, story.reason)}
        if action == Action.accept:
            fields["category_code"] = story.category
        elif action == Action.dispatch:
            bank = story.handler == "bank"
            fields = {"bank_code": data["bank"]} if bank else {"department_code": story.handler}
        elif action == Action.answer:
            if story.handler == "bank":
                who = Principal(role=Role.bank, bank_code=data["bank"])
            if story.path == "sent_back" and not self.answers[index]:
                fields["text"] = BANK_ANSWER  # not enough: the office sends it back
            elif story.path == "reopened_once" and self.answers[index]:
                fields["text"] = SECOND_ANSWER
            self.answers[index] += 1
        elif action == Action.merge:
            assert story.duplicate_of is not None
            fields["merge_into_id"] = self.ids[story.duplicate_of]
        if action in (Action.confirm, Action.reopen, Action.withdraw):
            who = self._enterprise(data["enterprise_id"])
            fields["rating"] = story.rating if action == Action.confirm else None
        row = self.session.get(Appeal, self.ids[index])
        marks, late_before = self._marks(), bool(row and row.late)
        take_step(self.session, who, self.ids[index], AppealStep(action=action, **fields))
        self.counts[f"appeal.{action}"] += 1
        self._settle(marks, at, self.ids[index], action, late_before)

    def _rate_lead(self, enterprise_id: int, data: RatingCreate, at: datetime) -> None:
        marks = self._marks()
        rate_lead(self.session, self._enterprise(enterprise_id), data)
        self.counts["service_rating.created"] += 1
        self._settle(marks, at)

    def _check_overdue(self, at: datetime) -> None:
        day = at.astimezone(TZ).date()
        if not self.session.exec(
            select(func.count()).where(
                col(Appeal.status) == AppealStatus.dispatched,
                col(Appeal.due_date) < day,
                col(Appeal.escalated_at).is_(None),
            )
        ).one():
            return  # the night's check finds nothing (and writes nothing)
        marks = self._marks()
        escalated = check_overdue(self.session, day)["escalated"]
        if escalated:
            self.counts["appeal.escalated"] += escalated
            self._settle(marks, at)

    # --- the clock turned back -------------------------------------------------------------

    def _marks(self) -> dict[type, int]:
        tables = [model.__table__ for model, _ in _LOGS]  # type: ignore[union-attr]
        marks = self.session.connection().execute(
            select(*(select(func.max(t.c.id)).scalar_subquery() for t in tables))
        )
        return {model: mark or 0 for (model, _), mark in zip(_LOGS, marks.one(), strict=True)}

    def _settle(
        self,
        marks: dict[type, int],
        at: datetime,
        appeal_id: int | None = None,
        action: Action | None = None,
        late_before: bool = False,
    ) -> None:
        """What the step wrote just now happened at ``at``."""
        session, run = self.session, self.session.connection().execute
        for model, column in _LOGS:
            table = model.__table__  # type: ignore[union-attr]
            run(update(table).where(table.c.id > marks[model]).values({column: at}))
        table = Appeal.__table__  # type: ignore[attr-defined]
        moved = {
            name: case((table.c[name] >= self.now, at), else_=table.c[name]) for name in _TIMES
        }
        run(update(table).where(table.c.updated_at >= self.now).values(moved))  # every step sets it
        if appeal_id is not None and action in (Action.dispatch, Action.answer):
            self._dates(appeal_id, action, at, marks, late_before)
        session.commit()
        for appeal_id in self.ids.values():  # what the session holds of them is stale now
            if (
                row := session.identity_map.get(session.identity_key(Appeal, appeal_id))
            ) is not None:
                session.expire(row)

    def _dates(
        self, appeal_id: int, action: Action, at: datetime, marks: dict[type, int], late: bool
    ) -> None:
        """A dispatch is due the category's working days after the day it was made; an
        answer is late only if it came after that (or the request was late already)."""
        session = self.session
        row = session.get(Appeal, appeal_id, populate_existing=True)
        assert row is not None and row.category_code is not None
        day = at.astimezone(TZ).date()
        events: list[Any] = list(
            session.exec(
                select(AppealEvent).where(
                    col(AppealEvent.id) > marks[AppealEvent], AppealEvent.appeal_id == appeal_id
                )
            )
        )
        if action == Action.dispatch:
            due, provisional = counted_due(day, self.days[row.category_code])
            values: dict[str, Any] = {"dispatched_date": day, "due_date": due}
            values["due_date_provisional"] = provisional
            extra: dict[str, Any] = {"due_date": due.isoformat()}
            events += session.exec(
                select(BankEvent).where(
                    col(BankEvent.id) > marks[BankEvent], BankEvent.type == "request.assigned"
                )
            )
        else:
            assert row.due_date is not None
            on_time = day <= row.due_date
            values, extra = {"late": late or not on_time}, {"on_time": on_time}
        table = Appeal.__table__  # type: ignore[attr-defined]
        session.connection().execute(update(table).where(table.c.id == appeal_id).values(values))
        for event in events:
            event.data = {**event.data, **extra}


def _fits(kind: AppealKind, lead: Lead, raised: datetime) -> bool:
    """Whether a request of ``kind`` raised at ``raised`` could be about ``lead``."""
    if kind == K.slow_response:
        return lead.sla_breached_at is not None and lead.sla_breached_at < raised
    if lead.status != LeadStatus.disbursed or lead.closed_at is None:
        return False
    return lead.closed_at < raised - timedelta(days=3)


def _fill(text: str, data: dict[str, Any]) -> str:
    amount = data.get("charge_amount_fen")
    return text.format(
        amount=f"{amount / 1_000_000:g}万元" if amount else "",
        offered=f"{data.get('offered_rate_bp', 0) / 100:.2f}%",
        charged=f"{data.get('charged_rate_bp', 0) / 100:.2f}%",
    )
