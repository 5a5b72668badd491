"""The demo shop behind ``liandong run``: a referral tree of a few hundred members trading over the past week.

Everything enters through the event log, as in production, and the worker applies it; the seed only chooses the
events (``random.Random(seed)``: the same seed gives the same shop). Over the ``days`` days before today:

- members join, the first few with no referrer, later ones invited by members who already recruit (preferential
  attachment: a member with more referrals is likelier to bring the next one); member ids look like the API's
  (``m`` and nine letters);
- three in four buy a gift pack within a day of joining (699.00 or the 399.00 tea pack), some buy tea and honey later,
  a few agents buy a second gift pack;
- about one order in thirty is refunded within a day;
- at 21:00 some members with at least 100.00 available ask to withdraw half of it (the seed runs the same engine
  in memory to know balances, so these are accepted), each to a made-up Alipay account; the next morning most are
  approved (the payout to come), some rejected (always when the member owes after a refund), and most approved
  ones are marked paid in the afternoon (the money leaves withdrawing then);
- each day is closed at its end (the bonus pool is shared among partners).

The products and their unit costs are the demo shop file's (``service/shop.yaml``: the 699.00 gift pack costs
280.00, tea 21.00, …), so the dashboard shows a gross margin.

Today starts empty: the worker closes days from now on (``auto_close_days`` in the demo shop file).
Example: ``seed_demo(members=300, days=7, seed=2026)`` logs about 800 events (300 joins, some 400 payments,
refunds, withdrawals and their decisions, 7 closes).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import threading
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connections, transaction

from ..engine.core import Engine
from ..engine.money import format_fen
from ..service.feed import build_event
from ..service.log import validate_event
from ..service.shopfile import ensure_shop_setup
from ..service.store.models import LoggedEvent, MemberState, ShopSetup
from ..service.worker import Worker, build_engine, replay_log
from .accounts.models import MemberLogin

DEMO_PASSWORD = "liandong-demo"
OPERATOR_USERNAME = "operator"
ID_LETTERS = "abcdefghjkmnpqrstuvwxyz23456789"
INVITE_LETTERS = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
GIFTS = (("GIFT", 0.8), ("GIFT-TEA", 0.2))
EVERYDAY = ("TEA", "HONEY")

Planned = tuple[dt.datetime, int, str, dict[str, Any]]  # (at, tie-breaker, verb, fields)


@dataclass
class DemoSeed:
    """The events the seed logs, in time order, each with its ``at``."""

    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    members: list[str] = field(default_factory=list)


def _ident(rng: random.Random, letters: str, n: int) -> str:
    return "".join(rng.choice(letters) for _ in range(n))


def plan_members(rng: random.Random, count: int, first: dt.datetime, last: dt.datetime) -> list[Planned]:
    """Joins spread over the window, denser towards its end (the shop grows), each with a referrer."""
    span = (last - first).total_seconds()
    times = sorted(first + dt.timedelta(seconds=span * rng.random() ** 0.8) for _ in range(count))
    ids: list[str] = []
    weights: list[int] = []
    planned: list[Planned] = []
    for i, at in enumerate(times):
        member = "m" + _ident(rng, ID_LETTERS, 9)
        referrer = None
        if i >= 6:
            pick = rng.choices(range(len(ids)), weights=weights)[0]
            referrer = ids[pick]
            weights[pick] += 2
        ids.append(member)
        weights.append(1)
        planned.append((at, i, "join", {"member": member, "referrer": referrer}))
    return planned


def plan_orders(rng: random.Random, joins: list[Planned], until: dt.datetime) -> list[Planned]:
    """Gift packs after joining, everyday products later, a few repeat gift packs and refunds."""
    planned: list[Planned] = []
    n = 0

    def order(at: dt.datetime, member: str, sku: str) -> None:
        nonlocal n
        if at >= until:
            return
        n += 1
        order_id = f"demo-o{n:05d}"
        planned.append((at, 0, "pay", {"member": member, "sku": sku, "order": order_id}))
        if rng.random() < 1 / 30:
            refund_at = at + dt.timedelta(hours=rng.uniform(1, 24))
            if refund_at < until:
                planned.append((refund_at, 0, "refund", {"order": order_id}))

    for joined, _i, _verb, fields in joins:
        member = fields["member"]
        if rng.random() < 0.75:
            gift = rng.choices([s for s, _w in GIFTS], weights=[w for _s, w in GIFTS])[0]
            order(joined + dt.timedelta(hours=rng.uniform(0.1, 20)), member, gift)
            if rng.random() < 0.05:
                order(joined + dt.timedelta(hours=rng.uniform(24, 96)), member, "GIFT")
        for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
            order(joined + dt.timedelta(hours=rng.uniform(2, 120)), member, rng.choice(EVERYDAY))
    return planned


def _planned_days(start: dt.datetime, days: int, tz: Any) -> list[dt.date]:
    first = start.astimezone(tz).date()
    return [first + dt.timedelta(days=d) for d in range(days)]


def demo_payee(member: str) -> str:
    """A made-up Alipay account for a demo member, the same on every start: ``alipay:1`` and ten digits."""
    return "alipay:1" + str(int(hashlib.sha256(member.encode()).hexdigest(), 16))[:10]


#: Why the demo's operator rejects a withdrawal (what a shop's finance desk writes, in both languages as the demo's
#: product names are); the member reads it on 提现.
REJECT_REASONS = (
    "收款账户姓名与实名不符，请使用本人账户 · The payee account name does not match your real name; use an account in "
    "your own name.",
    "支付宝账户不存在，请核对后重新申请 · No Alipay account has this number; check it and request again.",
    "无法核实这张银行卡，请补充开户行全称后重新申请 · We could not verify this bank card; add the bank's full name and "
    "request again.",
)
OWES_REASON = ("退款后余额为负，欠款还清前无法打款 · A refund left your balance below zero; the shop pays nothing out "
               "while you owe it.")


def demo_reject_reason(withdrawal: str) -> str:
    """One of ``REJECT_REASONS`` for a withdrawal, the same on every start (chosen by its id, so the demo's random
    draws stay as they were)."""
    return REJECT_REASONS[int(hashlib.sha256(withdrawal.encode()).hexdigest(), 16) % len(REJECT_REASONS)]


class _Simulation:
    """Applies the planned events to an engine in memory, adding the withdrawals it can afford, in time order."""

    def __init__(self, engine: Engine, rng: random.Random) -> None:
        self.engine, self.rng = engine, rng
        self.seed = DemoSeed()
        self.requested: list[str] = []
        self.approved: list[str] = []
        self.count = 0

    def log(self, at: dt.datetime, verb: str, fields: dict[str, Any]) -> None:
        at = max(at, self.engine.clock + dt.timedelta(seconds=1))
        logged = {**fields, "at": at.isoformat()}
        outcome = self.engine.apply(build_event(verb, logged, at, self.engine.tz))
        assert outcome.refusal is None, f"the demo seed planned a refused event: {verb} {fields}: {outcome.refusal}"
        self.seed.events.append((verb, logged))

    def evening(self, at: dt.datetime) -> None:
        """21:00: some members with at least 100.00 available ask for half of it (whole yuan)."""
        for member in self.engine.members:
            available = self.engine.balance(member)
            if available >= 10000 and self.rng.random() < 0.35:
                self.count += 1
                withdrawal = f"demo-w{self.count:04d}"
                amount = (available // 2) // 100 * 100
                self.log(at, "withdraw", {"member": member, "amount": format_fen(amount), "withdrawal": withdrawal,
                                          "payee": demo_payee(member)})
                self.requested.append(withdrawal)

    def morning(self, at: dt.datetime) -> None:
        """10:00: most of yesterday's requests approved, some rejected; rejected too when a refund overnight left
        the member owing (the engine approves no withdrawal past a debt)."""
        for withdrawal in self.requested:
            verb = "approve_withdrawal" if self.rng.random() < 0.85 else "reject_withdrawal"
            reason = demo_reject_reason(withdrawal)
            if self.engine.balance(self.engine.withdrawals[withdrawal].member) < 0:
                verb, reason = "reject_withdrawal", OWES_REASON
            # as the operator's approval through the API: the payout to come, marked paid in the afternoon; a
            # rejection says why, as the API requires
            said = {"paid_out": False} if verb == "approve_withdrawal" else {"reason": reason}
            self.log(at, verb, {"withdrawal": withdrawal, **said})
            if verb == "approve_withdrawal":
                self.approved.append(withdrawal)
        self.requested = []

    def afternoon(self, at: dt.datetime) -> None:
        """16:00: most approved withdrawals are paid out (a bank reference)."""
        for withdrawal in self.approved:
            if self.rng.random() < 0.8:
                self.log(at, "mark_withdrawal_paid", {"withdrawal": withdrawal,
                                                      "reference": "BANK-" + _ident(self.rng, INVITE_LETTERS, 10)})
        self.approved = []


def demo_events(engine: Engine, members: int, days: int, seed: int) -> DemoSeed:
    """The seed's events for a shop whose engine (its setup and products applied) is ``engine``."""
    rng = random.Random(seed)
    tz = engine.tz
    day_list = _planned_days(engine.clock, days, tz)
    opening = dt.datetime.combine(day_list[0], dt.time(8, 0), tzinfo=tz)
    closing = dt.datetime.combine(day_list[-1], dt.time(20, 0), tzinfo=tz)
    joins = plan_members(rng, members, opening, closing)
    timeline = joins + plan_orders(rng, joins, engine.end_of_day(day_list[-1]))
    for day in day_list:
        for hour, verb in ((10, "morning"), (16, "afternoon"), (21, "evening")):
            timeline.append((dt.datetime.combine(day, dt.time(hour, 0), tzinfo=tz), 1, verb, {}))
        timeline.append((engine.end_of_day(day), 2, "close_day", {"day": day.isoformat()}))
    timeline.sort(key=lambda item: (item[0], item[1]))
    sim = _Simulation(engine, rng)
    for at, _tie, verb, fields in timeline:
        if verb in ("morning", "afternoon", "evening"):
            getattr(sim, verb)(at)
        else:
            sim.log(at, verb, fields)
    sim.seed.members = [str(fields["member"]) for _at, _i, _verb, fields in joins]
    return sim.seed


def seed_demo(members: int = 300, days: int = 7, seed: int = 2026, today: dt.date | None = None) -> int:
    """Log the demo shop's events if the log has no member yet; return how many were logged."""
    if LoggedEvent.objects.filter(verb="join").exists():
        return 0
    probe = ShopSetup.objects.filter(id=1).first()
    tz_name = probe.timezone if probe is not None else "Asia/Shanghai"
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(tz_name)
    first_day = (today or dt.datetime.now(tz).date()) - dt.timedelta(days=days)
    start = dt.datetime.combine(first_day, dt.time(0, 0), tzinfo=tz)
    setup = ensure_shop_setup(start=start)
    if setup.start > start:
        return 0  # the shop started later than the demo's first day: its events would be refused
    engine = build_engine(setup)
    up_to = LoggedEvent.objects.order_by("-position").values_list("position", flat=True).first() or 0
    for _chunk in replay_log(engine, setup.auto_close_days, up_to):
        pass
    planned = demo_events(engine, members, days, seed)
    rows = []
    for i, (verb, fields) in enumerate(planned.events, start=1):
        validate_event(verb, fields)
        body = json.dumps({"verb": verb, **fields}, sort_keys=True).encode()
        rows.append(LoggedEvent(key=f"demo:{i:06d}", verb=verb, payload=fields,
                                request_hash=hashlib.sha256(body).hexdigest(), actor="system"))
    with transaction.atomic():
        LoggedEvent.objects.bulk_create(rows, batch_size=500)
    return len(rows)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    member: str | None
    role: str


def _member_login(username: str, member: str, role: str) -> DemoLogin:
    users = get_user_model().objects
    user = users.filter(username=username).first()
    if user is None:
        user = users.create_user(username=username, password=DEMO_PASSWORD)
    if not MemberLogin.objects.filter(member=member).exists():
        code = _ident(random.Random(member), INVITE_LETTERS, 8)
        MemberLogin.objects.create(user=user, member=member, invite_code=code)
    return DemoLogin(username, DEMO_PASSWORD, member, role)


def ensure_demo_logins() -> list[DemoLogin]:
    """An operator (superuser) and member logins for the two richest partners, an agent and a plain member.

    The members are picked once, on the first start; a later start keeps each demo username's member (balances
    change as the shop runs: after a withdrawal the richest partner may be another, whose login must not be
    created under a username that already has one)."""
    users = get_user_model().objects
    if not users.filter(username=OPERATOR_USERNAME).exists():
        users.create_superuser(OPERATOR_USERNAME, "operator@example.com", DEMO_PASSWORD)
    logins = [DemoLogin(OPERATOR_USERNAME, DEMO_PASSWORD, None, "operator (superuser)")]
    taken = dict(MemberLogin.objects.values_list("user__username", "member"))
    logged_in = set(taken.values())
    rank_now = dict(MemberState.objects.values_list("member", "rank"))
    wanted = [("partner", "demo-partner", 2), ("agent", "demo-agent", 1), ("member", "demo-member", 1)]
    for rank, name, count in wanted:
        rows = MemberState.objects.filter(rank=rank).order_by("join_index")
        richest = sorted(rows, key=lambda m: -int(m.view.get("available", "0").replace(".", "")))
        fresh = iter([state.member for state in richest if state.member not in logged_in])
        for n in range(1, min(count, len(richest)) + 1):
            username = name if n == 1 else f"{name}{n}"
            member = taken.get(username) or next(fresh, None)
            if member is None:
                break
            logins.append(_member_login(username, member, f"{rank_now.get(member, rank)} {member}"))
    return logins


def _banner(port: int, logins: list[DemoLogin], applied: int) -> str:
    base = f"http://127.0.0.1:{port}"
    lines = [
        "",
        "Liandong demo shop is running (SQLite; Ctrl-C stops the web server and the worker).",
        f"  API docs      {base}/api/docs",
        f"  back office   {base}/office/  (raw data: {base}/admin/)",
        f"  events applied at start: {applied}",
        "  logins (username / password):",
    ]
    lines += [f"    {login.username:<16} {login.password:<16} {login.role}" for login in logins]
    return "\n".join(lines) + "\n"


def run_demo(port: int = 8000, members: int = 300, seed: int = 2026, days: int = 7) -> None:
    """``liandong run``: migrate, seed, apply, create logins, then serve and keep applying until Ctrl-C."""
    call_command("migrate", verbosity=0)
    logged = seed_demo(members=members, days=days, seed=seed)
    if logged:
        print(f"seeded the demo shop: {logged} events logged")
    worker = Worker()
    with worker.locked():
        applied = worker.drain()
    logins = ensure_demo_logins()
    stop = threading.Event()

    def work() -> None:
        try:
            worker.run_forever(stop)
        finally:
            connections.close_all()

    thread = threading.Thread(target=work, name="liandong-worker", daemon=True)
    thread.start()
    print(_banner(port, logins, applied), flush=True)
    try:
        # threaded (one thread per request): an open page's notice stream holds one
        call_command("runserver", f"127.0.0.1:{port}", use_reloader=False, use_threading=True)
    finally:
        stop.set()
        thread.join(timeout=10)
