"""Team contests (战队PK), the "Team contests" of ``shared/spec/distribution.md``.

A plan the shop runs (``plans: {contests: {}}``; ``skus`` limits the products whose orders count). An operator
creates a contest with ``create_contest``: a name, ``start`` and ``end`` (the window ``start <= at < end``), a
``metric``, teams (each with a captain), how members join (``joining``: ``invite``, a member joins the team of the
captain whose invite it follows, ``join_contest_team`` naming the captain; ``assigned``: only an operator places
members, ``assign_contest_team``) and prizes by final rank (cash to available, or coupons; to the captain or to each
member of the team). Until the start the operator may replace the rules (``change_contest``); from the start
they are frozen (``contest_frozen``).

What counts, for a member in a team, from the instant it joined the team and inside the window:

- ``sales``: the amount of each order it pays (a product the plan applies to); ``orders``: one per such order;
- ``invites``: one per member joining with it as the referrer;
- ``new_agents``: one per member it invited whose first gift-pack order is paid inside the window.

A refund inside the window (before the contest is over) takes the order's contribution out again; after the end the
standings are final and a refund changes nothing in them. Standings rank teams by figure, highest first; a tie goes
to the team that reached its figure first (the instant of its last change), then to the team listed first.

At each ``close_day`` inside the window the engine records the fact ``contest_day_standings`` naming every team
member (the service turns it into a notice for each). When the clock reaches ``end`` (any event at or after it: the
worker's minute ``tick`` when the shop is idle) the contest is over: the prizes are paid once, as ledger postings
``contest_prize`` (cash, from ``@platform/contest_prizes`` to available) or ``contest_coupon_prize`` (coupons), each
naming the contest and the rank in its reference (``c1 #1``). Worked example (metric sales, 1st prize 100.00)::

    10:00  A captains red, B captains blue; C joins red
    10:05  C pays 300.00 (o1)              red 300.00
    10:06  B pays 200.00 (o2)              blue 200.00, red 300.00
    11:00  refund o1 (inside the window)   red 0.00: blue first
    end    blue is first: B +100.00 available, reference "c1 #1"
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import Refusal, refuse
from ..events import Event, MemberId, Money, ObjectId, register_event
from ..i18n import gettext_noop
from ..ledger import Account
from ..module import Book, Module, ModuleConfig, Rule, Verb
from ..money import format_fen

if TYPE_CHECKING:
    from ..core import Engine, Member, Order

PLAN = "contests"
PRIZES: Account = ("@platform", "contest_prizes")
COUPONS_ISSUED: Account = ("@platform", "contest_coupons_issued")
COUPONS = "contest_coupons"
TeamId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")]
Metric = Literal["sales", "orders", "invites", "new_agents"]
METRICS: tuple[str, ...] = ("sales", "orders", "invites", "new_agents")

CODES = {
    "contest_exists": gettext_noop("contest {value} exists already"),
    "contest_unknown": gettext_noop("contest {value} is not a contest of this shop"),
    "contest_start_passed": gettext_noop("start {value} is before the clock {clock}"),
    "contest_frozen": gettext_noop("contest {value} has started: its rules are frozen"),
    "contest_over": gettext_noop("contest {value} is over"),
    "contest_team_unknown": gettext_noop("team {value} is not a team of contest {contest}"),
    "contest_captain_unknown": gettext_noop("captain {value} is not a member"),
    "contest_in_team": gettext_noop("member {value} is already in team {team} of contest {contest}"),
    "contest_assigned_only": gettext_noop("contest {value} places members by assignment only"),
    "contest_not_captain": gettext_noop("member {value} captains no team of contest {contest}"),
}

RULES = (
    Rule("contest_prize", gettext_noop("team contest prize"), gettext_noop("contest {ref}"), reward=True),
    Rule("contest_coupon_prize", gettext_noop("team contest coupons"), gettext_noop("contest {ref}")),
)
BOOKS = (
    Book(COUPONS, gettext_noop("contest coupons"), unit="coupon"),
    Book(COUPONS_ISSUED[1], gettext_noop("contest coupons issued"), unit="coupon"),
)


class TeamRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: TeamId
    name: str = Field(min_length=1, max_length=40)
    captain: MemberId


class Prize(BaseModel):
    """The prize of a final rank: ``cash`` (to available) or ``coupons``, to the captain or to each member."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    rank: int = Field(ge=1, le=100)
    cash: Money | None = Field(None, ge=1, le=100_000_000)
    coupons: int | None = Field(None, ge=1, le=1_000_000)
    to: Literal["captain", "each"] = "captain"

    @model_validator(mode="after")
    def _one_kind(self) -> Prize:
        if (self.cash is None) == (self.coupons is None):
            raise ValueError("give exactly one of cash or coupons")
        return self


class ContestRules(BaseModel):
    """What ``create_contest`` and ``change_contest`` carry; frozen at ``start``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1, max_length=60)
    start: dt.datetime
    end: dt.datetime
    metric: Metric
    teams: list[TeamRules] = Field(min_length=2, max_length=50)
    joining: Literal["invite", "assigned"] = "invite"
    prizes: list[Prize] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _consistent(self) -> ContestRules:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if self.end - self.start > dt.timedelta(days=366):
            raise ValueError("a contest lasts at most 366 days")
        ids = [t.id for t in self.teams]
        if len(set(ids)) != len(ids):
            raise ValueError("team ids must differ")
        captains = [t.captain for t in self.teams]
        if len(set(captains)) != len(captains):
            raise ValueError("a member captains one team at most")
        ranks = [p.rank for p in self.prizes]
        if len(set(ranks)) != len(ranks):
            raise ValueError("one prize per rank")
        if any(r > len(self.teams) for r in ranks):
            raise ValueError("a prize for a rank beyond the number of teams")
        return self


class ContestsConfig(ModuleConfig):
    pass


class _ContestEvent(Event):
    primary: ClassVar[str] = "contest"
    contest: ObjectId
    name: str = Field(min_length=1, max_length=60)
    start: dt.datetime
    end: dt.datetime
    metric: Metric
    teams: list[TeamRules]
    joining: Literal["invite", "assigned"] = "invite"
    prizes: list[Prize] = Field(default_factory=list)

    def rules(self) -> ContestRules:
        return ContestRules(name=self.name, start=self.start, end=self.end, metric=self.metric, teams=self.teams,
                            joining=self.joining, prizes=self.prizes)


@register_event
class CreateContest(_ContestEvent):
    """An operator creates a contest."""

    verb: ClassVar[str] = "create_contest"


@register_event
class ChangeContest(_ContestEvent):
    """An operator replaces a contest's rules before its start."""

    verb: ClassVar[str] = "change_contest"


@register_event
class JoinContestTeam(Event):
    """A member joins the team of the captain whose invite it follows (a member gives the captain's invite code)."""

    verb: ClassVar[str] = "join_contest_team"
    primary: ClassVar[str] = "member"
    member: MemberId
    contest: ObjectId
    captain: MemberId


@register_event
class AssignContestTeam(Event):
    """An operator places a member in a team."""

    verb: ClassVar[str] = "assign_contest_team"
    primary: ClassVar[str] = "member"
    member: MemberId
    contest: ObjectId
    team: TeamId


@dataclass(slots=True)
class Standing:
    team: str
    figure: int = 0  # fen for sales, else a count
    reached_at: dt.datetime | None = None


@dataclass(slots=True)
class Contest:
    id: str
    rules: ContestRules
    created_at: dt.datetime
    start: dt.datetime  # in the shop's zone
    end: dt.datetime
    team_of: dict[str, str] = field(default_factory=dict)  # member -> team
    joined_at: dict[str, dt.datetime] = field(default_factory=dict)
    standings: dict[str, Standing] = field(default_factory=dict)
    counted: dict[str, tuple[str, int]] = field(default_factory=dict)  # order -> (team, contribution)
    agents_counted: set[str] = field(default_factory=set)  # invitees whose first gift pack counted
    over: bool = False
    prizes_paid: list[dict[str, Any]] = field(default_factory=list)

    def running(self, at: dt.datetime) -> bool:
        return not self.over and self.start <= at < self.end

    def members_of(self, team: str) -> list[str]:
        return [m for m, t in self.team_of.items() if t == team]

    def ranked(self) -> list[Standing]:
        order = {t.id: i for i, t in enumerate(self.rules.teams)}
        far = dt.datetime.max.replace(tzinfo=dt.UTC)
        return sorted(self.standings.values(),
                      key=lambda s: (-s.figure, s.reached_at or far, order[s.team]))

    def figure_text(self, figure: int) -> str:
        return format_fen(figure) if self.rules.metric == "sales" else str(figure)

    def view(self, members: bool = True) -> dict[str, Any]:
        """The contest as replay shows it; ``members=False`` (the shop read the worker rewrites as standings move):
        each team's size instead of its members, who read their own team in their member read."""
        r = self.rules
        teams = {t.id: t for t in r.teams}
        return {
            "name": r.name, "metric": r.metric, "joining": r.joining,
            "start": self.start.isoformat(), "end": self.end.isoformat(),
            "status": "over" if self.over else "running" if self.started else "scheduled",
            "teams": [{"id": t.id, "name": t.name, "captain": t.captain,
                       **({"members": self.members_of(t.id)} if members else {}),
                       "size": sum(1 for team in self.team_of.values() if team == t.id)}
                      for t in r.teams],
            "prizes": [{"rank": p.rank, "to": p.to,
                        **({"cash": format_fen(p.cash)} if p.cash is not None else {"coupons": p.coupons})}
                       for p in r.prizes],
            "standings": [{"rank": i + 1, "team": s.team, "name": teams[s.team].name,
                           "figure": self.figure_text(s.figure),
                           "reached_at": s.reached_at.isoformat() if s.reached_at else None}
                          for i, s in enumerate(self.ranked())],
            "prizes_paid": self.prizes_paid,
        }

    started: bool = False


class Contests(Module):
    kind: ClassVar[str] = PLAN
    Config: ClassVar[type[ModuleConfig]] = ContestsConfig
    codes = CODES
    rules = RULES
    books = BOOKS
    accounts = (PRIZES, COUPONS_ISSUED)

    def __init__(self, config: ModuleConfig) -> None:
        super().__init__(config)
        self.contests: dict[str, Contest] = {}
        # each member's gift-pack orders not refunded: a member becomes an agent with the first of them
        self.gift_packs: dict[str, set[str]] = {}

    # --- contributions -------------------------------------------------------------------------------------------
    def _add(self, contest: Contest, team: str, amount: int, at: dt.datetime) -> None:
        standing = contest.standings[team]
        standing.figure += amount
        standing.reached_at = at

    def _team_at(self, contest: Contest, member: str | None, at: dt.datetime) -> str | None:
        if member is None:
            return None
        team = contest.team_of.get(member)
        if team is None or contest.joined_at[member] > at:
            return None
        return team

    def on_join(self, engine: Engine, member: Member) -> None:
        at = engine.clock
        for contest in self.contests.values():
            if contest.rules.metric == "invites" and contest.running(at):
                team = self._team_at(contest, member.referrer, at)
                if team is not None:
                    self._add(contest, team, 1, at)

    def on_pay(self, engine: Engine, order: Order) -> None:
        at = engine.clock
        first_gift = False
        if order.gift_pack:
            held = self.gift_packs.setdefault(order.member, set())
            first_gift = not held
            held.add(order.id)
        for contest in self.contests.values():
            if not contest.running(at):
                continue
            metric = contest.rules.metric
            if metric in ("sales", "orders"):
                team = self._team_at(contest, order.member, at)
                amount = order.amount if metric == "sales" else 1
            elif metric == "new_agents" and first_gift:
                referrer = engine.members[order.member].referrer
                team = self._team_at(contest, referrer, at)
                amount = 1
            else:
                continue
            if team is not None and amount > 0:
                contest.counted[order.id] = (team, amount)
                self._add(contest, team, amount, at)

    def on_refund(self, engine: Engine, order: Order) -> None:
        at = engine.clock
        for contest in self.contests.values():
            counted = contest.counted.pop(order.id, None)
            if counted is None:
                continue
            if contest.over or at >= contest.end:
                contest.counted[order.id] = counted  # final standings stay as they were
                continue
            team, amount = counted
            self._add(contest, team, -amount, at)
        held = self.gift_packs.get(order.member)
        if held is not None:  # with no gift pack left, the member's next one makes it an agent again
            held.discard(order.id)

    # --- the clock -----------------------------------------------------------------------------------------------
    def on_clock(self, engine: Engine, now: dt.datetime) -> None:
        for contest in self.contests.values():
            if not contest.started and now >= contest.start:
                contest.started = True
            if not contest.over and now >= contest.end:
                self.finish(engine, contest)

    def finish(self, engine: Engine, contest: Contest) -> None:
        """The end: the standings are final; each prize is paid, once."""
        contest.over = True
        contest.started = True
        ranked = contest.ranked()
        captains = {t.id: t.captain for t in contest.rules.teams}
        for prize in sorted(contest.rules.prizes, key=lambda p: p.rank):
            standing = ranked[prize.rank - 1]
            winners = [captains[standing.team]] if prize.to == "captain" else sorted(
                {captains[standing.team], *contest.members_of(standing.team)},
                key=lambda m: engine.members[m].index)
            ref = f"{contest.id} #{prize.rank}"
            for member in winners:
                if prize.cash is not None:
                    engine.transfer("contest_prize", PRIZES, (member, "available"), prize.cash, plan=PLAN,
                                    source=None, ref=ref)
                else:
                    assert prize.coupons is not None
                    engine.transfer("contest_coupon_prize", COUPONS_ISSUED, (member, COUPONS), prize.coupons,
                                    plan=PLAN, source=None, ref=ref)
                contest.prizes_paid.append({
                    "rank": prize.rank, "team": standing.team, "member": member,
                    **({"cash": format_fen(prize.cash)} if prize.cash is not None else {"coupons": prize.coupons})})
        engine.fact("contest_over", contest=contest.id, standings=contest.view(members=False)["standings"],
                    members=sorted(contest.team_of, key=lambda m: engine.members[m].index))

    def on_close_day(self, engine: Engine, day: dt.date) -> None:
        for contest in self.contests.values():
            if contest.over or engine.day_of(contest.start) > day or engine.day_of(contest.end) < day:
                continue
            members = sorted(contest.team_of, key=lambda m: engine.members[m].index)
            engine.fact("contest_day_standings", contest=contest.id, day=day.isoformat(),
                        standings=contest.view(members=False)["standings"], members=members,
                        teams={m: contest.team_of[m] for m in members})

    # --- reads -------------------------------------------------------------------------------------------------
    def team_of(self, member: str) -> dict[str, str]:
        return {cid: c.team_of[member] for cid, c in self.contests.items() if member in c.team_of}

    def member_view(self, engine: Engine, member: str) -> dict[str, Any]:
        return {"contests": self.team_of(member), COUPONS: engine.balance(member, COUPONS)}

    def member_read(self, engine: Engine, member: str) -> dict[str, Any] | None:
        teams = self.team_of(member)
        return {"teams": teams} if teams else None

    def shop_read(self, engine: Engine) -> dict[str, Any] | None:
        return {"contests": {cid: c.view(members=False) for cid, c in self.contests.items()}}

    def end_state(self, engine: Engine) -> dict[str, Any]:
        return {"contests": {cid: c.view() for cid, c in self.contests.items()}}

    def check_invariants(self, engine: Engine) -> list[str]:
        broken = []
        for cid, contest in self.contests.items():
            for team, standing in contest.standings.items():
                counted = sum(a for t, a in contest.counted.values() if t == team)
                if contest.rules.metric in ("sales", "orders", "new_agents") and counted != standing.figure:
                    broken.append(f"contest {cid} team {team}: figure {standing.figure} != counted {counted}")
                if standing.figure < 0:
                    broken.append(f"contest {cid} team {team}: figure below zero")
            paid = {(p["rank"], p["member"]) for p in contest.prizes_paid}
            if len(paid) != len(contest.prizes_paid):
                broken.append(f"contest {cid}: a prize paid twice")
        return broken


def _plan(engine: Engine) -> Contests:
    plan = engine.modules[PLAN]
    assert isinstance(plan, Contests)
    return plan


def _check_rules(engine: Engine, event: _ContestEvent) -> Refusal | None:
    try:
        rules = event.rules()
    except ValidationError as exc:
        why = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
        return refuse("invalid", "contest", event.contest, why=why)
    if rules.start.astimezone(engine.tz) < engine.clock:
        return refuse("contest_start_passed", "start", event.start.isoformat(), clock=engine.clock.isoformat())
    for team in rules.teams:
        if team.captain not in engine.members:
            return refuse("contest_captain_unknown", "captain", team.captain)
    return None


def check_create(engine: Engine, event: CreateContest) -> Refusal | None:
    if event.contest in _plan(engine).contests:
        return refuse("contest_exists", "contest", event.contest)
    return _check_rules(engine, event)


def _contest_of(engine: Engine, rules: ContestRules, cid: str) -> Contest:
    contest = Contest(cid, rules, engine.clock, rules.start.astimezone(engine.tz), rules.end.astimezone(engine.tz))
    for team in rules.teams:
        contest.standings[team.id] = Standing(team.id)
        contest.team_of[team.captain] = team.id
        contest.joined_at[team.captain] = engine.clock
    return contest


def apply_create(engine: Engine, event: CreateContest) -> None:
    contest = _contest_of(engine, event.rules(), event.contest)
    _plan(engine).contests[event.contest] = contest
    # the captains' own reads show their team (the fact names them)
    engine.fact("contest_created", contest=event.contest, captains=[t.captain for t in contest.rules.teams])


def check_change(engine: Engine, event: ChangeContest) -> Refusal | None:
    contest = _plan(engine).contests.get(event.contest)
    if contest is None:
        return refuse("contest_unknown", "contest", event.contest)
    if contest.started or engine.clock >= contest.start:
        return refuse("contest_frozen", "contest", event.contest)
    return _check_rules(engine, event)


def apply_change(engine: Engine, event: ChangeContest) -> None:
    plan = _plan(engine)
    old = plan.contests[event.contest]
    contest = _contest_of(engine, event.rules(), event.contest)
    teams = {t.id for t in contest.rules.teams}
    for member, team in old.team_of.items():  # members keep a team that is still there
        if team in teams and member not in contest.team_of:
            contest.team_of[member] = team
            contest.joined_at[member] = old.joined_at[member]
    contest.created_at = old.created_at
    plan.contests[event.contest] = contest
    engine.fact("contest_changed", contest=event.contest, members=sorted({*old.team_of, *contest.team_of}))


def _check_join(engine: Engine, event: JoinContestTeam | AssignContestTeam, by_member: bool) -> Refusal | None:
    if event.member not in engine.members:
        return refuse("member_unknown", "member", event.member)
    contest = _plan(engine).contests.get(event.contest)
    if contest is None:
        return refuse("contest_unknown", "contest", event.contest)
    if contest.over or engine.clock >= contest.end:
        return refuse("contest_over", "contest", event.contest)
    if by_member and contest.rules.joining == "assigned":
        return refuse("contest_assigned_only", "contest", event.contest)
    if isinstance(event, JoinContestTeam):
        if not any(t.captain == event.captain for t in contest.rules.teams):
            return refuse("contest_not_captain", "captain", event.captain, contest=event.contest)
    elif event.team not in contest.standings:
        return refuse("contest_team_unknown", "team", event.team, contest=event.contest)
    if event.member in contest.team_of:
        return refuse("contest_in_team", "member", event.member, team=contest.team_of[event.member],
                      contest=event.contest)
    return None


def check_join(engine: Engine, event: JoinContestTeam) -> Refusal | None:
    return _check_join(engine, event, True)


def check_assign(engine: Engine, event: AssignContestTeam) -> Refusal | None:
    return _check_join(engine, event, False)


def apply_join(engine: Engine, event: JoinContestTeam | AssignContestTeam) -> None:
    contest = _plan(engine).contests[event.contest]
    if isinstance(event, JoinContestTeam):
        team = next(t.id for t in contest.rules.teams if t.captain == event.captain)
    else:
        team = event.team
    contest.team_of[event.member] = team
    contest.joined_at[event.member] = engine.clock
    engine.fact("contest_team_joined", contest=event.contest, team=team, member=event.member)


_EXAMPLE = {"contest": "c1", "name": "双十二战队PK", "start": "2026-12-10T00:00:00+08:00",
            "end": "2026-12-13T00:00:00+08:00", "metric": "sales",
            "teams": [{"id": "red", "name": "红队", "captain": "m3kq7"},
                      {"id": "blue", "name": "蓝队", "captain": "m9x2a"}],
            "joining": "invite", "prizes": [{"rank": 1, "cash": "100.00", "to": "captain"}]}

Contests.verbs = (
    Verb(CreateContest, check_create, apply_create, senders=("operator",), permission="run_campaigns",
         example=_EXAMPLE),
    Verb(ChangeContest, check_change, apply_change, senders=("operator",), permission="run_campaigns",
         example=_EXAMPLE),
    Verb(JoinContestTeam, check_join, apply_join, senders=("member",), member_field="member",
         member_refs=("captain",), example={"contest": "c1", "captain": "K7Q2MX"}),
    Verb(AssignContestTeam, check_assign, apply_join, senders=("operator",), permission="run_campaigns",
         example={"member": "m3kq7", "contest": "c1", "team": "red"}),
)
