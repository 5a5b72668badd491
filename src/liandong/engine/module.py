"""The module surface: what a plan or a campaign module declares, in its own file, for the rest of the system.

A module is one class. Registered with one line in ``registry.py`` (``REGISTRY.register(Chain21)``), it appears in
``liandong replay``, the engine's invariants, the API (one route per verb, built from ``verbs``), the member's
statement (its ``rules`` and ``books``), the member's and the operator's read models, and the simulator
(``SimAdapter``). Nothing else changes. What it declares:

- ``kind`` and ``Config`` (a pydantic model; an invalid config is refused naming the key and the value);
- ``verbs``: its events, each a :class:`Verb` naming the event class, its check (reads only) and apply, and who may
  send it (``member``, ``operator``, ``system``), e.g. chain21's ``transpose`` is sent by operators;
- ``codes``: its refusal codes with their English messages (``{field}``, ``{value}`` and parameters filled in);
- ``rules``: every ledger rule it posts, with its statement label (:class:`Rule`; ``reward=True`` counts toward
  ``platform.rewards``); ``books``: the member books it adds (:class:`Book`, with a unit for non-cash books);
- every text it declares (messages, labels, notes) is an English msgid marked with ``gettext_noop``
  (``engine/i18n.py``); the Chinese is in the one catalogue, ``liandong/locale`` (``docs/i18n.md``);
- ``accounts``: the shop accounts it posts to (owners starting with ``@``; a trailing ``*`` matches any id), so the
  engine can re-check every module's postings after each hook (``Engine.recheck``);
- ``provides``: capabilities other modules may ask for through the engine (``engine.ask("team_leader")``) instead of
  importing this module;
- read models: ``member_view`` (its keys of a member in ``replay --json``), ``end_state`` (its top-level keys),
  ``member_read`` (what a member sees of it on its pages and at ``/api/me/plans/<kind>``), ``operator_read`` (what
  an operator sees of a member), ``shop_read`` (shop-wide figures anyone may read), and ``check_invariants``;
- ``sim_adapter``: how the simulator reads it (a :class:`SimAdapter`: ranks, series, pooled rules).

Hooks on the core events (``on_join``, ``on_reparent``, ``check_pay``/``on_pay``, ``check_refund``/``on_refund``,
``on_close_day``,
``on_clock``) do nothing unless overridden; the engine calls only the modules that override a frequent hook. A
module keeps its own per-order facts in its own state; it never writes another module's state.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import Refusal

if TYPE_CHECKING:
    from .core import Engine, Member, Order, RewardRecord
    from .events import Event

Check = Callable[["Engine", Any], Refusal | None]
Apply = Callable[["Engine", Any], None]
Sender = Literal["member", "operator", "system"]


@dataclass(frozen=True, slots=True)
class Verb:
    """One event a module serves. ``senders``: who may send it. For a member sender, ``member_field`` is the field
    the service fills with the calling member's id (a member acts for itself only); ``member_refs`` are fields that
    name another member, which a member gives as that member's invite code; ``generated`` are fields the service
    fills with a fresh id (``(field, prefix)``); ``permission`` is the operator permission it needs; ``example``: a
    request body for the API's documentation."""

    event: type[Event]
    check: Check
    apply: Apply
    senders: tuple[Sender, ...]
    member_field: str | None = None
    member_refs: tuple[str, ...] = ()
    generated: tuple[tuple[str, str], ...] = ()
    permission: str | None = None
    example: dict[str, Any] | None = None
    #: fields every sender must give although the event accepts them absent (events logged before the field existed
    #: stay valid): the API's request body requires them, e.g. ``reject_withdrawal``'s ``reason``
    required: tuple[str, ...] = ()
    #: fills fields the service must choose (``prepare(fields, new_id) -> fields``), e.g. a private group's code
    prepare: Callable[[dict[str, Any], Callable[[str], str]], dict[str, Any]] | None = None
    #: for an event the member pays for (a ``PaidEvent``): its price in fen now, from the engine's state (None when
    #: the event's own check refuses it); the core refuses a ``paid`` that differs
    price: Callable[[Engine, Any], int | None] | None = None
    #: the same price as the service quotes it before the payment, from the fields and the published campaign views
    #: (``find("campaign" | "group", id) -> view or None``); None when it cannot be quoted (the event is then refused)
    quote: Callable[[dict[str, Any], Callable[[str, str], dict[str, Any] | None]], int | None] | None = None

    @property
    def name(self) -> str:
        return self.event.verb


@dataclass(frozen=True, slots=True)
class Rule:
    """A ledger rule as a statement reads it: ``+200.00 team reward · order o7 by C (your team)``. ``label`` and
    ``note`` are English msgids, marked with ``gettext_noop``: their translations are in the catalogue
    (``engine/i18n.py``). A note may name ``{ref}``, the transaction's reference (``level 2 · 5%``), and the
    placeholders of ``note_params`` (the same for every line of the rule, e.g. ``(("level", "2"),)``)."""

    name: str
    label: str
    note: str = ""
    reward: bool = False
    note_params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Book:
    """A member book: its label on statements and pages (an English msgid, marked with ``gettext_noop``), and its
    unit (None: money in fen; else e.g. "coupon")."""

    name: str
    label: str
    unit: str | None = None


class SimAdapter:
    """How the simulator reads a module: its ranks, its plan-specific series, the money its pools hold for members,
    and the rules it pays without an order (and how the audit classifies them). The default reads nothing special;
    a module overrides what it has. ``kind`` is the module's kind."""

    #: the module's ranks, lowest first; empty when it has none
    ranks: ClassVar[tuple[str, ...]] = ()
    #: reward rules paid without an order: rule -> (team_based: funded by others' sales, recruitment_linked)
    pooled_rules: ClassVar[dict[str, tuple[bool, bool]]] = {}
    #: the names ``series`` returns
    series_names: ClassVar[tuple[str, ...]] = ()
    #: series that are not money: name -> "points" (hundredths of a point) or "nav" (millionths)
    units: ClassVar[dict[str, str]] = {}

    def __init__(self, kind: str) -> None:
        self.plan_kind = kind

    def rank_of(self, engine: Engine, member: str) -> str | None:
        return None

    def observe(self, engine: Engine, fact: dict[str, Any]) -> None:
        """A fact the engine recorded (a promotion, a release); adapters that track members read them here."""

    def series(self, engine: Engine) -> dict[str, int]:
        """Plan-specific figures at the day's close: money in fen (pools, frozen balances) unless ``units`` says."""
        return {}

    def committed(self, engine: Engine) -> int:
        """Money the plan holds in its pools for members (not the platform's to keep), in fen."""
        return 0

    def paid_at_close(self, engine: Engine) -> list[str]:
        """Members the plan pays without an order at a close, beyond those it pays on orders (points holders)."""
        return []

    def touched_by(self, fact: dict[str, Any]) -> str | None:
        """The member whose rank a fact may change."""
        member = fact.get("member")
        return member if isinstance(member, str) else None


class ModuleConfig(BaseModel):
    """Base of every plan's config. ``skus``: the products the plan applies to (all when left out)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    skus: list[str] | None = None


class ConfigError(ValueError):
    """An invalid plan config. ``problems`` is a list of (key, value, message)."""

    def __init__(self, plan: str, problems: list[tuple[str, Any, str]]) -> None:
        self.plan = plan
        self.problems = problems
        text = "; ".join(f"{key}: {value!r}: {msg}" for key, value, msg in problems)
        super().__init__(f"invalid {plan} config: {text}")


def validate_config(plan: str, model: type[ModuleConfig], raw: dict[str, Any]) -> ModuleConfig:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems: list[tuple[str, Any, str]] = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"]) or "(config)"
            value: Any = raw
            for part in err["loc"]:
                if isinstance(value, dict) and part in value:
                    value = value[part]
                elif isinstance(value, list) and isinstance(part, int) and part < len(value):
                    value = value[int(part)]
                else:
                    value = None
                    break
            msg = err["msg"]
            if err["type"] == "extra_forbidden":
                msg = "unknown key"
            problems.append((key, value, msg))
        raise ConfigError(plan, problems) from None


class Module:
    """Base of plans and campaign modules. Hooks do nothing unless overridden."""

    kind: ClassVar[str] = ""
    Config: ClassVar[type[ModuleConfig]] = ModuleConfig
    #: True for campaign modules: always loaded (each campaign is created by an event); plans run when a shop lists them
    always_on: ClassVar[bool] = False
    verbs: ClassVar[tuple[Verb, ...]] = ()
    codes: ClassVar[dict[str, str]] = {}
    rules: ClassVar[tuple[Rule, ...]] = ()
    books: ClassVar[tuple[Book, ...]] = ()
    accounts: ClassVar[tuple[tuple[str, str], ...]] = ()
    #: capability -> the name of the method that serves it (called as ``method(engine, *args)``)
    provides: ClassVar[dict[str, str]] = {}
    sim_adapter: ClassVar[type[SimAdapter]] = SimAdapter

    def __init__(self, config: ModuleConfig) -> None:
        self.config = config
        self.skus: frozenset[str] | None = frozenset(config.skus) if config.skus is not None else None

    def applies_to(self, sku: str) -> bool:
        return self.skus is None or sku in self.skus

    def reconfigure(self, config: ModuleConfig) -> None:
        """A new config version; it applies to events after it."""
        self.config = config
        self.skus = frozenset(config.skus) if config.skus is not None else None

    def check_config(self, engine: Engine, config: ModuleConfig) -> tuple[str, Any, str] | None:
        """What the shop refuses in ``config`` beyond its own validation, as (key, value, why): e.g. a plan it names
        that the shop does not run. Checked at start and for every ``configure_plan``; None when nothing."""
        return None

    # --- hooks on core events (engine is the context: it posts, credits and records facts) ---
    def on_join(self, engine: Engine, member: Member) -> None:
        pass

    def on_reparent(self, engine: Engine, member: Member, previous: str | None) -> None:
        """The operator moved ``member`` from the referrer ``previous`` to ``member.referrer`` (``reparent_member``):
        the core's tree has moved already; a module adjusts what it counts or derives from the tree."""

    def check_pay(self, engine: Engine, event: Any) -> Refusal | None:
        return None

    def on_pay(self, engine: Engine, order: Order) -> None:
        pass

    def check_refund(self, engine: Engine, order: Order) -> Refusal | None:
        return None

    def on_refund(self, engine: Engine, order: Order) -> None:
        pass

    def on_close_day(self, engine: Engine, day: dt.date) -> None:
        pass

    def on_clock(self, engine: Engine, now: dt.datetime) -> None:
        """The clock moved to ``now`` (before the event at ``now`` is checked): deadlines may pass."""

    def on_settled(self, engine: Engine, record: RewardRecord) -> None:
        """A reward this module credited left its settlement window (``pending`` -> available)."""

    def on_hold_decided(self, engine: Engine, record: RewardRecord, released: bool) -> None:
        """A reward this module credited, held for review (the fraud holds), was released (to available) or
        rejected (taken back)."""

    def help_fund_open(self, engine: Engine, member: str) -> bool:
        """Whether the frozen part of a reward settling now still goes to the member's help fund."""
        return True

    def min_withdrawal_fen(self) -> int | None:
        return None

    def withdrawal_fee_rate(self) -> Any:
        return None

    def rewards_above_price(self, config: ModuleConfig, sku: str, price: int, gift_pack: bool) -> list[tuple[str, int]]:
        """The fixed rewards (config key, amount) that ``config`` would pay on one sale of the product, that are
        more than its ``price``: the engine refuses a product price or a config change that makes any."""
        return []

    # --- what pages, replay and the simulator read ---
    def member_view(self, engine: Engine, member: str) -> dict[str, Any]:
        return {}

    def end_state(self, engine: Engine) -> dict[str, Any]:
        return {}

    def check_invariants(self, engine: Engine) -> list[str]:
        return []

    def member_read(self, engine: Engine, member: str) -> dict[str, Any] | None:
        """What a member sees of this module (its pages, ``/api/me/plans/<kind>``); None when nothing."""
        return None

    def operator_read(self, engine: Engine, member: str) -> dict[str, Any] | None:
        """What an operator sees of a member in this module (the member's page in the back office)."""
        return self.member_read(engine, member)

    def shop_read(self, engine: Engine) -> dict[str, Any] | None:
        """Shop-wide figures of this module that anyone may read (a pool, the NAV history); None when nothing."""
        return None
