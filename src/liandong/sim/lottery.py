"""Probes of a plan file's lotteries and blind boxes (its ``campaigns:``): the largest prize, the odds members are
told against the odds the engine's draws realise, and whether published rules stay frozen.

A campaign entry in a plan file::

    campaigns:
      - kind: group_buy                   # or red_envelope, blind_box, presale: a module with a draw_probe
        params: {sku: TEA, group_size: 5, winners: 2}
        start: {size: 5, winners: 1}      # red_envelope only: the groups members start
        disclosed: {winners: 2}           # what the shop's pages tell members, when it is not the published params

Odds: the probe runs ``DRAWS`` groups (or box sets) through the engine, each with its own committed secret, and
counts who won by seat (a group's join order) or where the prize lay (a blind box). Against the disclosed odds —
each seat wins with chance winners / size; the prize is in any box of the window with equal chance — a chi-square
test gives a p-value: below 0.001 the realised draws do not fit what members were told (fail), below 0.01 warn.
E.g. 400 groups of 5 with 2 winners: each seat should win about 160 times; a page that says "3 of 5 win" expects
240 and the test fails.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from scipy import stats

from ..engine.campaigns.base import DrawProbe
from ..engine.errors import Code
from ..engine.money import format_fen
from ..engine.registry import REGISTRY
from .planfile import PlanSpec
from .preset import Preset
from .probes import ProbeShop

DRAWS = 400


def probed_kinds() -> tuple[str, ...]:
    """The campaign kinds whose modules declare a draw probe (``CampaignModule.draw_probe``), in registry order."""
    return tuple(kind for kind, module in REGISTRY.campaigns.items() if getattr(module, "draw_probe", None))


@dataclass
class CampaignProbe:
    """What the probes found for one campaign entry of the plan file."""

    kind: str
    campaign: str
    largest_prize: int  # fen
    prize_what: str
    draws: int = 0
    p_value: float | None = None
    disclosed: str = ""
    realised: str = ""
    frozen: bool | None = None  # True when a change to the published rules was refused
    refused: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "campaign": self.campaign, "largest_prize": format_fen(self.largest_prize),
                "prize_what": self.prize_what, "draws": self.draws,
                "p_value": None if self.p_value is None else round(self.p_value, 6),
                "disclosed": self.disclosed, "realised": self.realised, "frozen": self.frozen,
                "refused": self.refused[:5]}


def secret_for(seed: int, name: str) -> str:
    """A reproducible draw secret for the audit's campaigns (a real shop's secrets are random)."""
    return hashlib.sha256(f"liandong-audit|{seed}|{name}".encode()).hexdigest()


ENTRY_KEYS = {"kind", "params", "start", "disclosed"}


def _probe(kind: str) -> DrawProbe:
    module = REGISTRY.campaigns[kind]
    probe: type[DrawProbe] | None = getattr(module, "draw_probe", None)
    assert probe is not None, kind
    return probe()


def campaign_problem(plan: PlanSpec, preset: Preset) -> tuple[str, Any, str] | None:
    """The first thing wrong with the plan file's campaigns, as (key, value, message), found by creating each one
    (and what its probe checks beyond that: a red-envelope group's start) in a probe shop: the engine's own refusal
    names the field and value."""
    kinds = probed_kinds()
    for i, entry in enumerate(plan.campaigns):
        where = f"campaigns[{i}]"
        kind = entry.get("kind")
        if kind not in kinds:
            return f"{where}.kind", kind, f"one of {', '.join(kinds)}"
        for key in entry:
            if key not in ENTRY_KEYS:
                return f"{where}.{key}", entry[key], f"unknown key; known: {', '.join(sorted(ENTRY_KEYS))}"
        shop = ProbeShop(plan, preset)
        probe = _probe(kind)
        ok = probe.create(shop, entry, "check", secret_for(preset.seed, "check")) and probe.check(shop, entry, "check")
        if not ok and shop.last_refusal is not None:
            refusal = shop.last_refusal
            return f"{where}.{refusal.field}", refusal.value, refusal.reason
    return None


def probe_campaigns(plan: PlanSpec, preset: Preset, draws: int = DRAWS) -> list[CampaignProbe]:
    """Each campaign entry through its module's draw probe, in a probe shop of its own, ``draws`` groups or box
    sets each (the back office's check of one campaign runs fewer when a group or set is large)."""
    out = []
    for i, entry in enumerate(plan.campaigns):
        kind, cid = entry["kind"], f"c{i}"
        shop = ProbeShop(plan, preset)
        tally = _probe(kind).run(shop, entry, cid, draws, lambda name: secret_for(preset.seed, name))
        probe = CampaignProbe(kind, cid, tally.largest_prize, tally.prize_what, draws=tally.draws,
                              disclosed=tally.disclosed, realised=tally.realised)
        if tally.seat_wins is not None:
            probe.p_value = seat_test(tally.seat_wins, tally.draws, tally.chance)
        elif tally.window_counts is not None:
            probe.p_value = 0.0 if tally.outside else uniform_test(tally.window_counts)
        if tally.frozen_campaign is not None:
            probe.frozen = _frozen(shop, tally.frozen_campaign, tally.frozen_change)
        probe.refused = shop.refused
        out.append(probe)
    return out


def seat_test(wins_by_seat: list[int], draws: int, chance: float) -> float:
    """p-value that each seat won ``draws × chance`` times, from the wins and losses of every seat."""
    stat = 0.0
    for wins in wins_by_seat:
        for observed, p in ((wins, chance), (draws - wins, 1.0 - chance)):
            expected = draws * p
            if expected > 0:
                stat += (observed - expected) ** 2 / expected
            elif observed:
                return 0.0  # something happened that members were told cannot
    return float(stats.chi2.sf(stat, len(wins_by_seat)))


def uniform_test(counts: list[int]) -> float:
    """p-value that every outcome is equally likely (a blind box's prize over the disclosed window)."""
    return float(stats.chisquare(counts).pvalue) if sum(counts) else 1.0


def _frozen(shop: ProbeShop, campaign: str, change: dict[str, Any]) -> bool:
    """Try to change a published campaign's rules: True when the engine refuses it as frozen."""
    if shop.do("update_campaign", campaign=campaign, params=change):
        return False
    return shop.last_refusal is not None and shop.last_refusal.code == Code.FROZEN
