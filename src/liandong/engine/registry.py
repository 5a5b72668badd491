"""The one place that names every plan and campaign module the engine can run, in the order it runs them.

A new plan or campaign is a new module and one line here (``REGISTRY.register(Chain21)``); adding one changes no
other file. ``Registry.register`` reads the module's declarations (``module.py``) and fails at start when two
modules claim the same kind, verb, rule, book or refusal code. The engine is given the registry
(``Engine(shop, REGISTRY)``, or ``new_engine(shop)``); the core itself knows no module.

    >>> sorted(REGISTRY.plans)
    ['chain21', 'contests', 'distribution', 'fraud_holds', 'member_groups', 'points']
    >>> REGISTRY.owner_of("transpose"), REGISTRY.verb("transpose").senders
    ('chain21', ('operator',))
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from . import core
from .campaigns.base import CampaignLifecycle
from .campaigns.blind_box import BlindBox
from .campaigns.group_buy import GroupBuy
from .campaigns.presale import Presale
from .campaigns.red_envelope import RedEnvelope
from .errors import declare_codes
from .events import EVENT_TYPES, Event
from .labels import DeclarationError, claim, declare_book, declare_rule
from .ledger import NON_CASH_UNITS, REWARD_RULES
from .module import Module, ModuleConfig, Verb
from .plans.chain21 import Chain21
from .plans.contests import Contests
from .plans.distribution import Distribution
from .plans.fraud_holds import FraudHolds
from .plans.member_groups import MemberGroups
from .plans.points import Points

if TYPE_CHECKING:
    from .core import Engine, Shop


class Registry:
    """Modules by kind, and every verb with the module that serves it (the core's verbs under ``core``)."""

    def __init__(self) -> None:
        self.plans: dict[str, type[Module]] = {}
        self.campaigns: dict[str, type[Module]] = {}
        self._verbs: dict[str, tuple[str, Verb]] = {}
        self._declare(core.Core)

    def register(self, module: type[Module]) -> type[Module]:
        """Add a module (a plan, or with ``always_on`` a campaign module). Returns it, so it can decorate."""
        kind = module.kind
        if not kind or kind == "core" or kind in self.plans or kind in self.campaigns:
            raise DeclarationError(f"module kind {kind!r} is empty, reserved or registered twice")
        self._declare(module)
        (self.campaigns if module.always_on else self.plans)[kind] = module
        return module

    def _declare(self, module: type[Module]) -> None:
        kind = module.kind
        for verb in module.verbs:
            name = verb.name
            if name in self._verbs:
                raise DeclarationError(f"verb {name!r} is served by both {self._verbs[name][0]} and {kind}")
            if EVENT_TYPES.get(name, verb.event) is not verb.event:
                raise DeclarationError(f"verb {name!r} names two event classes")
            claim("verb", name, kind)
            EVENT_TYPES[name] = verb.event
            self._verbs[name] = (kind, verb)
        declare_codes(module.codes, kind)
        for rule in module.rules:
            declare_rule(rule, kind)
            if rule.reward:
                REWARD_RULES.add(rule.name)
        for book in module.books:
            declare_book(book, kind)
            if book.unit is not None:
                NON_CASH_UNITS[book.name] = book.unit

    # --- reading the declarations ---
    def modules(self) -> Iterator[type[Module]]:
        yield from self.plans.values()
        yield from self.campaigns.values()

    def module(self, kind: str) -> type[Module] | None:
        return self.plans.get(kind) or self.campaigns.get(kind)

    def configurable(self, kind: str) -> type[Module] | None:
        """The module a shop's ``plans:`` and ``configure_plan`` may name: a plan, or an always-on module whose
        config declares keys of its own (the blind box's seed coupons); None for any other kind."""
        if kind in self.plans:
            return self.plans[kind]
        module = self.campaigns.get(kind)
        if module is not None and set(module.Config.model_fields) - set(ModuleConfig.model_fields):
            return module
        return None

    def verbs(self) -> Iterator[tuple[str, Verb]]:
        """Every verb with the kind of the module that serves it (``core`` for the core's), in declaration order."""
        yield from self._verbs.values()

    def verb(self, name: str) -> Verb:
        return self._verbs[name][1]

    def owner_of(self, name: str) -> str | None:
        found = self._verbs.get(name)
        return found[0] if found else None

    def event_type(self, name: str) -> type[Event] | None:
        found = self._verbs.get(name)
        return found[1].event if found else None

    @property
    def event_types(self) -> dict[str, type[Event]]:
        return {name: verb.event for name, (_kind, verb) in self._verbs.items()}


REGISTRY = Registry()
REGISTRY.register(Chain21)
REGISTRY.register(Distribution)
REGISTRY.register(Points)
REGISTRY.register(MemberGroups)
REGISTRY.register(FraudHolds)
REGISTRY.register(Contests)  # team contests (leaderboards branch)
REGISTRY.register(CampaignLifecycle)
REGISTRY.register(GroupBuy)
REGISTRY.register(RedEnvelope)
REGISTRY.register(Presale)
REGISTRY.register(BlindBox)

#: The registered plans and campaign modules by kind (live views of ``REGISTRY``).
PLANS = REGISTRY.plans
CAMPAIGNS = REGISTRY.campaigns


def new_engine(shop: Shop) -> Engine:
    """An engine for ``shop`` with every registered module."""
    return core.Engine(shop, REGISTRY)
