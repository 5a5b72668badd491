"""What a plan or a campaign module is: one class, registered in one place (``registry.py``), same hooks for all.

The engine runs the modules in a fixed, visible order (the order of ``plans:`` in the shop, then the campaign
modules) and checks the ledger after each event, so no module can leave it unbalanced. A module:

- validates its config with a pydantic model (``Config``); an invalid config is refused naming the key and value;
- may refuse a core event in ``check_*`` (pure: it reads, never writes) and acts on it in ``on_*``;
- serves its own events through ``handlers`` (verb -> (check, apply)), e.g. chain21's ``transpose``;
- shows its state through ``member_view`` (keys of a member in ``replay --json``) and ``end_state`` (top-level
  keys), and states its own invariants in ``check_invariants``.

Adding a plan or campaign is a new module and one line in the registry; no other module changes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import Refusal

if TYPE_CHECKING:
    from .core import Engine, Member, Order
    from .events import Event

Check = Callable[["Engine", Any], Refusal | None]
Apply = Callable[["Engine", Any], None]


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
    #: Module-specific events: verb -> (check, apply). Checks never change state.
    handlers: ClassVar[dict[str, tuple[Check, Apply]]] = {}

    def __init__(self, config: ModuleConfig) -> None:
        self.config = config
        self.skus: frozenset[str] | None = frozenset(config.skus) if config.skus is not None else None

    def applies_to(self, sku: str) -> bool:
        return self.skus is None or sku in self.skus

    def reconfigure(self, config: ModuleConfig) -> None:
        """A new config version; it applies to events after it."""
        self.config = config
        self.skus = frozenset(config.skus) if config.skus is not None else None

    # --- hooks on core events (engine is the context: it posts, credits and records facts) ---
    def on_join(self, engine: Engine, member: Member) -> None:
        pass

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

    def describe_event(self, event: Event) -> str | None:
        return None
