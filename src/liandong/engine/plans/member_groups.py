"""Member groups and the products exclusive to them (会员专区), the "Member groups and exclusive offers" of
``shared/spec/distribution.md`` (coupons are not part of this module).

An operator defines groups in the plan's config, each joined one way:

- ``rank``: the members holding at least a rank of a running plan (``{plan: chain21, at_least: agent}``: agents
  and partners). The ranks and their order are the ones the plan declares for the simulator (``SimAdapter.ranks``,
  read through ``SimAdapter.rank_of``), so this module imports no other plan;
- ``spend``: the members whose paid orders in the last ``days`` days add up to ``at_least`` (refunded orders taken
  out: a refund takes its order out of every window at once);
- ``by_hand``: the members an operator adds (``add_to_member_group``) and has not removed
  (``remove_from_member_group``).

``exclusive`` names the products only some groups may buy: ``{TEA: [vip, friends]}``. An order (``pay``) of such a
product by a member in none of its groups is refused ``member_group_exclusive`` naming the sku, and changes nothing.
Membership is evaluated at the order's instant, before it (the order itself never counts toward its own spend).
Worked example with ``big: {spend: {at_least: "500.00", days: 30}}`` and ``exclusive: {TEA: [big]}``::

    03-01 10:00  A pays 300.00 (o1)       A spent 300.00 in the window: not in big
    03-02 10:00  A pays TEA               refused member_group_exclusive (sku TEA: big only)
    03-05 10:00  A pays 250.00 (o2)       550.00: A is in big until 03-31 10:00 (when o1 leaves the window)
    03-06 10:00  A pays TEA (o3)          applied
    03-07 10:00  refund o2                300.00: A is out of big; o3 stays paid (nothing happens to it)

Rules are config: they change with ``configure_plan`` (a new config version, applied to events after it), like
every plan's. Time comes only from the events: when a spend membership runs out, the next event at or after that
instant (the worker's minute ``tick`` when the shop is idle) records the fact ``member_group_left``.
"""

from __future__ import annotations

import datetime as dt
import heapq
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..config_types import Yuan
from ..errors import Code, Refusal, refuse
from ..events import Event, MemberId, ObjectId, register_event
from ..i18n import gettext_noop
from ..module import Module, ModuleConfig, SimAdapter, Verb
from ..money import format_fen

if TYPE_CHECKING:
    from ..core import Engine, Order
    from ..events import Pay

PLAN = "member_groups"
GroupId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")]

CODES = {
    "member_group_exclusive": gettext_noop("sku {value} is for members of {groups} only: {member} is in none of them"),
    "member_group_unknown": gettext_noop("group {value} is not a member group of this shop"),
    "member_group_not_by_hand": gettext_noop("group {value} is joined by {by}, not by hand"),
    "member_group_already_in": gettext_noop("member {value} is already in group {group}"),
    "member_group_not_in": gettext_noop("member {value} was not added to group {group} by hand"),
}


class RankRule(BaseModel):
    """Members holding ``at_least`` this rank of ``plan`` (a rank the plan declares; higher ranks count too)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    plan: ObjectId
    at_least: ObjectId


class SpendRule(BaseModel):
    """Members whose unrefunded orders paid in the last ``days`` days (a rolling window of ``days`` × 24 hours
    ending at the instant it is evaluated) add up to at least ``at_least``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    at_least: Yuan = Field(ge=1)
    days: int = Field(ge=1, le=3650)


class GroupConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1, max_length=40)
    rank: RankRule | None = None
    spend: SpendRule | None = None
    by_hand: bool = False

    @model_validator(mode="after")
    def _one_way(self) -> GroupConfig:
        ways = [self.rank is not None, self.spend is not None, self.by_hand]
        if sum(ways) != 1:
            raise ValueError("give exactly one of rank, spend or by_hand: true")
        return self

    @property
    def by(self) -> str:
        return "rank" if self.rank is not None else "spend" if self.spend is not None else "hand"


class MemberGroupsConfig(ModuleConfig):
    groups: dict[GroupId, GroupConfig] = Field(default_factory=dict, max_length=100)
    exclusive: dict[ObjectId, list[GroupId]] = Field(default_factory=dict)  # sku -> the groups that may buy it

    @field_validator("exclusive")
    @classmethod
    def _known_groups(cls, exclusive: dict[str, list[str]], info: Any) -> dict[str, list[str]]:
        groups = info.data.get("groups") or {}
        for sku, names in exclusive.items():
            if not names:
                raise ValueError(f"{sku}: name at least one group")
            unknown = [name for name in names if name not in groups]
            if unknown:
                raise ValueError(f"{sku}: {', '.join(unknown)} is not one of the groups")
        return exclusive


@register_event
class AddToMemberGroup(Event):
    """An operator adds a member to a group joined by hand."""

    verb: ClassVar[str] = "add_to_member_group"
    primary: ClassVar[str] = "member"
    member: MemberId
    group: GroupId


@register_event
class RemoveFromMemberGroup(Event):
    """An operator removes a member it added by hand; orders it paid stay paid."""

    verb: ClassVar[str] = "remove_from_member_group"
    primary: ClassVar[str] = "member"
    member: MemberId
    group: GroupId


@dataclass(slots=True)
class Spent:
    """One order toward a member's spend: when it was paid and its amount (fen)."""

    order: str
    at: dt.datetime
    amount: int


class MemberGroups(Module):
    kind: ClassVar[str] = PLAN
    Config: ClassVar[type[ModuleConfig]] = MemberGroupsConfig
    config: MemberGroupsConfig
    codes = CODES
    provides = {"member_group_access": "may_buy"}

    def __init__(self, config: ModuleConfig) -> None:
        super().__init__(config)
        self.by_hand: dict[str, set[str]] = {}  # group -> members added by hand
        self.spent: dict[str, list[Spent]] = {}  # member -> its unrefunded orders, oldest first
        # when each spend membership runs out unless the member spends more: (member, group) -> instant, and the
        # same as a heap, so the clock finds the ones that passed without a walk over the members
        self.until: dict[tuple[str, str], dt.datetime] = {}
        self.lapses: list[tuple[dt.datetime, str, str]] = []
        self.stale = False  # the config changed: the lapses are recomputed when the clock next moves
        self._adapters: dict[str, SimAdapter] = {}

    def reconfigure(self, config: ModuleConfig) -> None:
        super().reconfigure(config)
        for group in list(self.by_hand):  # a group no longer joined by hand keeps no hand-added members
            defined = self.config.groups.get(group)
            if defined is None or not defined.by_hand:
                del self.by_hand[group]
        self.stale = True

    def check_config(self, engine: Engine, config: ModuleConfig) -> tuple[str, Any, str] | None:
        """A rank group names a plan the shop runs and one of the ranks that plan declares."""
        assert isinstance(config, MemberGroupsConfig)
        for name, group in config.groups.items():
            if group.rank is None:
                continue
            plan = engine.modules.get(group.rank.plan)
            if plan is None or plan not in engine.plans:
                return f"groups.{name}.rank.plan", group.rank.plan, "not a plan this shop runs"
            ranks = type(plan).sim_adapter.ranks
            if group.rank.at_least not in ranks:
                return (f"groups.{name}.rank.at_least", group.rank.at_least,
                        f"not a rank of {group.rank.plan} ({', '.join(ranks) or 'it has none'})")
        return None

    # --- membership ------------------------------------------------------------------------------------------------
    def _rank_index(self, engine: Engine, rule: RankRule, member: str) -> tuple[int, int] | None:
        plan = engine.modules.get(rule.plan)
        if plan is None:
            return None
        adapter = self._adapters.get(rule.plan)
        if adapter is None:
            adapter = self._adapters[rule.plan] = type(plan).sim_adapter(rule.plan)
        ranks = adapter.ranks
        held = adapter.rank_of(engine, member)
        if held not in ranks or rule.at_least not in ranks:
            return None
        return ranks.index(held), ranks.index(rule.at_least)

    def spend(self, member: str, days: int, at: dt.datetime) -> int:
        """What ``member``'s unrefunded orders paid in the ``days`` × 24 hours before ``at`` add up to (fen): an
        order paid at ``at - days`` exactly is out of the window, one paid at ``at`` is in."""
        since = at - dt.timedelta(days=days)
        total = 0
        for item in reversed(self.spent.get(member, ())):
            if item.at <= since:
                break
            if item.at <= at:
                total += item.amount
        return total

    def lapse(self, member: str, rule: SpendRule, at: dt.datetime) -> dt.datetime | None:
        """When ``member``, in the group at ``at`` by ``rule``, leaves it unless it spends more: the instant the
        order that takes the window below ``at_least`` leaves it; None when it is not in the group at ``at``."""
        window = dt.timedelta(days=rule.days)
        inside = [item for item in self.spent.get(member, ()) if at - window < item.at <= at]
        left = sum(item.amount for item in inside)
        if left < rule.at_least:
            return None
        for item in inside:
            left -= item.amount
            if left < rule.at_least:
                return item.at + window
        raise AssertionError("unreachable: at_least is at least 0.01")

    def is_in(self, engine: Engine, member: str, name: str, at: dt.datetime) -> bool:
        group = self.config.groups.get(name)
        if group is None or member not in engine.members:
            return False
        if group.rank is not None:
            found = self._rank_index(engine, group.rank, member)
            return found is not None and found[0] >= found[1]
        if group.spend is not None:
            return self.spend(member, group.spend.days, at) >= group.spend.at_least
        return member in self.by_hand.get(name, ())

    def groups_of(self, engine: Engine, member: str, at: dt.datetime) -> list[str]:
        """The groups ``member`` is in at ``at``, in the config's order."""
        return [name for name in self.config.groups if self.is_in(engine, member, name, at)]

    def may_buy(self, engine: Engine, member: str, sku: str) -> bool:
        """The ``member_group_access`` capability: whether ``member`` may buy ``sku`` now."""
        allowed = self.config.exclusive.get(sku)
        return allowed is None or any(self.is_in(engine, member, name, engine.clock) for name in allowed)

    # --- orders ----------------------------------------------------------------------------------------------------
    def check_pay(self, engine: Engine, event: Pay) -> Refusal | None:
        allowed = self.config.exclusive.get(event.sku)
        if allowed is None or any(self.is_in(engine, event.member, name, event.at) for name in allowed):
            return None
        names = ", ".join(self.config.groups[name].name for name in allowed)
        return refuse("member_group_exclusive", "sku", event.sku, groups=names, member=event.member)

    def on_pay(self, engine: Engine, order: Order) -> None:
        self.spent.setdefault(order.member, []).append(Spent(order.id, order.at, order.amount))
        self._track(order.member, engine.clock)

    def on_refund(self, engine: Engine, order: Order) -> None:
        held = self.spent.get(order.member)
        if held is None:
            return
        kept = [item for item in held if item.order != order.id]
        if len(kept) != len(held):
            self.spent[order.member] = kept
            self._track(order.member, engine.clock)

    def _track(self, member: str, at: dt.datetime) -> None:
        """Recompute when ``member``'s spend memberships run out (after an order or a refund of it)."""
        for name, group in self.config.groups.items():
            if group.spend is None:
                continue
            until = self.lapse(member, group.spend, at)
            if until is None:
                self.until.pop((member, name), None)
            elif self.until.get((member, name)) != until:
                self.until[(member, name)] = until
                heapq.heappush(self.lapses, (until, member, name))

    def on_clock(self, engine: Engine, now: dt.datetime) -> None:
        """Spend memberships whose window ran out by ``now`` end: fact ``member_group_left`` (the member's read
        changes with no event of its own)."""
        if self.stale:
            self.stale = False
            self.until.clear()
            self.lapses = []
            for member in self.spent:
                self._track(member, now)
        lapses = self.lapses
        while lapses and lapses[0][0] <= now:
            until, member, name = heapq.heappop(lapses)
            if self.until.get((member, name)) == until:
                del self.until[(member, name)]
                engine.fact("member_group_left", member=member, group=name, at=until.isoformat())

    # --- reading ---------------------------------------------------------------------------------------------------
    def _group_view(self, name: str) -> dict[str, Any]:
        group = self.config.groups[name]
        view: dict[str, Any] = {"group": name, "name": group.name, "by": group.by}
        if group.rank is not None:
            view["rank"] = {"plan": group.rank.plan, "at_least": group.rank.at_least}
        if group.spend is not None:
            view["spend"] = {"at_least": format_fen(group.spend.at_least), "days": group.spend.days}
        return view

    def member_read(self, engine: Engine, member: str) -> dict[str, Any]:
        """The groups the member is in now, how it is in each, and until when for a spend group (unless it spends
        more or an order of the window is refunded)."""
        if member not in engine.members:
            return {"groups": []}
        groups = []
        for name in self.groups_of(engine, member, engine.clock):
            view = self._group_view(name)
            rule = self.config.groups[name].spend
            until = self.lapse(member, rule, engine.clock) if rule is not None else None
            view["until"] = until.isoformat() if until is not None else None
            groups.append(view)
        return {"groups": groups}

    def shop_read(self, engine: Engine) -> dict[str, Any]:
        """The groups and how each is joined, and which products are exclusive to which groups."""
        return {"groups": [self._group_view(name) for name in self.config.groups],
                "exclusive": {sku: list(names) for sku, names in sorted(self.config.exclusive.items())}}

    def end_state(self, engine: Engine) -> dict[str, Any]:
        return {"member_groups": {name: sorted(m for m in engine.members if self.is_in(engine, m, name, engine.clock))
                                  for name in self.config.groups}}

    def member_view(self, engine: Engine, member: str) -> dict[str, Any]:
        return {"member_groups": self.groups_of(engine, member, engine.clock)}

    def check_invariants(self, engine: Engine) -> list[str]:
        problems: list[str] = []
        for member, held in self.spent.items():
            problems += [f"{member}'s spend counts order {item.order}, refunded or not its own" for item in held
                         if (order := engine.orders.get(item.order)) is None or order.refunded
                         or order.member != member]
        for group, members in self.by_hand.items():
            defined = self.config.groups.get(group)
            if defined is None or not defined.by_hand:
                problems.append(f"group {group} holds members added by hand but is not joined by hand")
            problems += [f"{m} in group {group} is not a member" for m in members if m not in engine.members]
        return problems


# --- the plan's own events --------------------------------------------------------------------------------------


def _plan(engine: Engine) -> MemberGroups:
    plan = engine.modules[PLAN]
    assert isinstance(plan, MemberGroups)
    return plan


def _check_hand(engine: Engine, event: AddToMemberGroup | RemoveFromMemberGroup) -> Refusal | None:
    if event.member not in engine.members:
        return refuse(Code.MEMBER_UNKNOWN, "member", event.member)
    group = _plan(engine).config.groups.get(event.group)
    if group is None:
        return refuse("member_group_unknown", "group", event.group)
    if not group.by_hand:
        return refuse("member_group_not_by_hand", "group", event.group, by=group.by)
    return None


def check_add(engine: Engine, event: AddToMemberGroup) -> Refusal | None:
    refusal = _check_hand(engine, event)
    if refusal is None and event.member in _plan(engine).by_hand.get(event.group, ()):
        return refuse("member_group_already_in", "member", event.member, group=event.group)
    return refusal


def apply_add(engine: Engine, event: AddToMemberGroup) -> None:
    _plan(engine).by_hand.setdefault(event.group, set()).add(event.member)
    engine.fact("member_group_joined", member=event.member, group=event.group)


def check_remove(engine: Engine, event: RemoveFromMemberGroup) -> Refusal | None:
    refusal = _check_hand(engine, event)
    if refusal is None and event.member not in _plan(engine).by_hand.get(event.group, ()):
        return refuse("member_group_not_in", "member", event.member, group=event.group)
    return refusal


def apply_remove(engine: Engine, event: RemoveFromMemberGroup) -> None:
    _plan(engine).by_hand[event.group].discard(event.member)
    engine.fact("member_group_left", member=event.member, group=event.group, at=event.at.isoformat())


MemberGroups.verbs = (
    Verb(AddToMemberGroup, check_add, apply_add, senders=("operator",), permission="configure_plan",
         example={"member": "m3kq7", "group": "friends"}),
    Verb(RemoveFromMemberGroup, check_remove, apply_remove, senders=("operator",), permission="configure_plan",
         example={"member": "m3kq7", "group": "friends"}),
)
