"""Plan files for ``simulate`` and ``audit``: the same files ``plan_file:`` reads in a scenario.

A plan file holds ``plan: chain21`` with that plan's config keys, or ``plans:`` (kind -> config) for several on
one shop; see ``scenario.load_plan_file_doc``. One key is read here only: ``campaigns:``, a list of the lotteries
and blind boxes the shop runs, which ``audit`` probes (``{kind: group_buy, params: {...}}``; ``lottery.py``);
``simulate`` does not run them and scenario replay never sees the key.

A bad file is not a crash: ``PlanFileError`` names the file, the key and the value, e.g.
``plan.yaml: chain21.team_reward: 'abc': 'abc' is not an amount with at most two decimals``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from ..engine.core import Product, Shop
from ..engine.module import ConfigError
from ..engine.registry import new_engine
from ..scenario import ScenarioError, load_plan_file_doc
from .preset import Preset

SIM_KEYS = ("campaigns",)


class PlanFileError(ValueError):
    """A bad plan file: names the file, the key and the value."""

    def __init__(self, path: str, key: str, value: Any, message: str) -> None:
        self.path, self.key, self.value = path, key, value
        super().__init__(f"{path}: {key}: {value!r}: {message}")


@dataclass(frozen=True)
class PlanSpec:
    """What a plan file asks for: plan kind -> raw config (as written), and campaigns for the audit's probes."""

    path: str
    plans: dict[str, dict[str, Any]]
    campaigns: list[dict[str, Any]] = field(default_factory=list)

    @property
    def label(self) -> str:
        return Path(self.path).stem if self.path else "+".join(self.plans)


def shop_for(plans: dict[str, dict[str, Any]], preset: Preset, *, keep_transactions: bool = False) -> Shop:
    """The engine's shop for a plan on the preset's products, starting at 00:00 of the preset's first day."""
    products = [Product(p.sku, p.price, p.gift_pack, p.red_envelope) for p in preset.products]
    start = dt.datetime.combine(preset.start, dt.time(0, 0, 0), tzinfo=ZoneInfo(preset.timezone))
    return Shop(products=products, plans={k: dict(v) for k, v in plans.items()}, start=start,
                timezone=preset.timezone, keep_transactions=keep_transactions)


def parse_plan_doc(doc: Any, path: str, preset: Preset) -> PlanSpec:
    """Validate a plan file's content against the engine (every plan's config) and the preset's products."""
    if not isinstance(doc, dict):
        raise PlanFileError(path, "(file)", doc, "a plan file is a mapping: `plan: chain21` and its keys")
    campaigns = doc.get("campaigns") or []
    if not isinstance(campaigns, list) or not all(isinstance(c, dict) and "kind" in c for c in campaigns):
        raise PlanFileError(path, "campaigns", campaigns, "a list of {kind: ..., params: {...}}")
    rest = {k: v for k, v in doc.items() if k not in SIM_KEYS}
    try:
        plans = load_plan_file_doc(rest, path)
    except ScenarioError as exc:
        raise PlanFileError(path, exc.key, rest.get(exc.key), str(exc).split(": ", 2)[-1]) from None
    skus = {p.sku for p in preset.products}
    for kind, config in plans.items():
        for sku in config.get("skus") or []:
            if sku not in skus:
                raise PlanFileError(path, f"{kind}.skus", sku, f"not a product of preset {preset.name}: {sorted(skus)}")
    try:
        new_engine(shop_for(plans, preset))
    except ConfigError as exc:
        key, value, message = exc.problems[0]
        raise PlanFileError(path, f"{exc.plan}.{key}" if key != "plan" else "plan", value, message) from None
    spec = PlanSpec(path, plans, [dict(c) for c in campaigns])
    if campaigns:
        from .lottery import campaign_problem  # the campaign probes build on plan specs

        problem = campaign_problem(spec, preset)
        if problem is not None:
            raise PlanFileError(path, *problem)
    return spec


def load_plan(path: str | Path, preset: Preset) -> PlanSpec:
    file = str(path)
    try:
        doc = yaml.safe_load(Path(file).read_text(encoding="utf-8"))
    except OSError as exc:
        raise PlanFileError(file, "(file)", file, exc.strerror or str(exc)) from None
    except yaml.YAMLError as exc:
        raise PlanFileError(file, "(yaml)", None, str(exc).splitlines()[0]) from None
    return parse_plan_doc(doc, file, preset)
