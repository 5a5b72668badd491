"""``simulate --events FILE``: the simulation's event stream as a scenario file that ``liandong replay`` reads back.

The file is an ordinary scenario (``shared/spec/scenarios.md``): the plans, the start and the products of the run,
then every event the simulator applied, in order, each with its ``at`` and its ids, then an ``expect`` block with
the run's totals. So ``liandong replay FILE`` replays the simulation through the engine and exits 1 if it does not
reach the same sales, rewards, pools and refusals::

    name: simulation chain21 (preset default, seed 1)
    plans: {"chain21": {}}
    start: "2026-01-01T00:00:00+08:00"
    products:
    - {"sku": "GIFT", "price": "699.00", "gift_pack": true, "cost": "280.00", "shipping": "12.00"}
    events:
    - {"join": "m0", "at": "2026-01-01T00:00:01+08:00"}
    - {"pay": "m0", "sku": "GIFT", "order": "o1", "at": "2026-01-01T00:00:02+08:00"}
    expect:
      platform: {"sales": "699.00", "rewards": "0.00"}

Each event is one line of JSON, which is also YAML: writing stays fast for long runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

from ..engine import events as ev
from ..engine.core import MEMBER_BOOKS, Engine
from ..engine.money import parse_yuan
from ..scenario import end_state
from .planfile import PlanSpec, shop_for
from .preset import Preset

TOP_MEMBERS = 5  # the best-paid members' whole views go into ``expect`` too


def _paid(view: dict[str, Any]) -> int:
    return sum(parse_yuan(view[book]) for book in MEMBER_BOOKS)


class ScenarioWriter:
    """Writes the header at once, one line per event as it is applied, and ``expect`` at ``finish``."""

    def __init__(self, path: str | Path, plan: PlanSpec, preset: Preset) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fh: IO[str] = self.path.open("w", encoding="utf-8")
        shop = shop_for(plan.plans, preset)
        dump = json.dumps
        self.fh.write(f"name: {dump(f'simulation {plan.label} (preset {preset.name}, seed {preset.seed})')}\n")
        self.fh.write(f"plans: {dump(plan.plans, ensure_ascii=False)}\n")
        self.fh.write(f"start: {dump(shop.start.isoformat())}\ntimezone: {dump(preset.timezone)}\nproducts:\n")
        for product in preset.describe()["products"]:
            self.fh.write(f"- {dump(product, ensure_ascii=False)}\n")
        self.fh.write("events:\n")
        self.count = 0

    def write(self, event: ev.Event) -> None:
        self.fh.write(f"- {json.dumps(event.describe(), ensure_ascii=False)}\n")
        self.count += 1

    def finish(self, engine: Engine) -> dict[str, Any]:
        """Write the run's totals as the scenario's ``expect`` and close the file; returns what it wrote."""
        state = end_state(engine)
        members = state["members"]
        top = sorted(members, key=lambda m: (-_paid(members[m]), engine.members[m].index))[:TOP_MEMBERS]
        expect = {"platform": state["platform"], "pools": state["pools"], "refused": len(state["refused"]),
                  "ledger": {"balanced": state["ledger"]["balanced"]},
                  "members": {m: members[m] for m in top}}
        self.fh.write("expect:\n")
        for key, value in expect.items():
            self.fh.write(f"  {key}: {json.dumps(value, ensure_ascii=False)}\n")
        self.fh.close()
        return expect
