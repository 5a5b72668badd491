"""Probes of a plan file's lotteries and blind boxes (its ``campaigns:``): the largest prize, the odds members are
told against the odds the engine's draws realise, and whether published rules stay frozen.

A campaign entry in a plan file::

    campaigns:
      - kind: group_buy                   # or red_envelope, blind_box, presale
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

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

from scipy import stats

from ..engine.errors import Code
from ..engine.money import format_fen
from .planfile import PlanSpec
from .preset import Preset
from .probes import ProbeShop

DRAWS = 400
KINDS = ("group_buy", "red_envelope", "blind_box", "presale")


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


def campaign_problem(plan: PlanSpec, preset: Preset) -> tuple[str, Any, str] | None:
    """The first thing wrong with the plan file's campaigns, as (key, value, message), found by creating each one
    (and starting a red-envelope group) in a probe shop: the engine's own refusal names the field and value."""
    for i, entry in enumerate(plan.campaigns):
        where = f"campaigns[{i}]"
        kind = entry.get("kind")
        if kind not in KINDS:
            return f"{where}.kind", kind, f"one of {', '.join(KINDS)}"
        for key in entry:
            if key not in ENTRY_KEYS:
                return f"{where}.{key}", entry[key], f"unknown key; known: {', '.join(sorted(ENTRY_KEYS))}"
        shop = ProbeShop(plan, preset)
        ok = _create(shop, preset, entry, "check")
        if ok and kind == "red_envelope":
            start = {"size": 5, "winners": 1, **entry.get("start", {})}
            ok = shop.do("start_red_envelope", member=shop.join("S1"), campaign="check", group="r0", **start)
        if not ok and shop.last_refusal is not None:
            refusal = shop.last_refusal
            return f"{where}.{refusal.field}", refusal.value, refusal.reason
    return None


def _create(shop: ProbeShop, preset: Preset, entry: dict[str, Any], cid: str) -> bool:
    """Create (publish) a campaign of the entry; a blind box is created by a member starting its first set."""
    kind = entry["kind"]
    params = {**entry.get("params", {}), "secret": secret_for(preset.seed, cid)}
    if kind == "blind_box":
        return shop.do("start_blind_box", member=shop.join(f"S-{cid}"), campaign=cid, params=params,
                       order=f"bs-{cid}")
    if kind == "presale":
        params.setdefault("deadline", (shop.engine.clock + dt.timedelta(days=30)).isoformat())
    return shop.do(f"create_{kind}", campaign=cid, params=params)


def probe_campaigns(plan: PlanSpec, preset: Preset) -> list[CampaignProbe]:
    out = []
    for i, entry in enumerate(plan.campaigns):
        kind = entry["kind"]
        probe = {"group_buy": _group_buy, "red_envelope": _red_envelope, "blind_box": _blind_box,
                 "presale": _presale}[kind]
        out.append(probe(plan, preset, entry, f"c{i}"))
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


def _members(shop: ProbeShop, n: int) -> list[str]:
    return [shop.join(f"M{i}") for i in range(n)]


def _frozen(shop: ProbeShop, campaign: str, change: dict[str, Any]) -> bool:
    """Try to change a published campaign's rules: True when the engine refuses it as frozen."""
    if shop.do("update_campaign", campaign=campaign, params=change):
        return False
    return shop.last_refusal is not None and shop.last_refusal.code == Code.FROZEN


def _group_buy(plan: PlanSpec, preset: Preset, entry: dict[str, Any], cid: str) -> CampaignProbe:
    shop = ProbeShop(plan, preset)
    _create(shop, preset, entry, cid)
    module: Any = shop.engine.modules["group_buy"]
    published = module.campaigns[cid].params
    size, winners = published.group_size, published.winners
    price = shop.engine.products[published.sku].price
    fund = price if published.winner_fund == "price" else published.winner_fund
    probe = CampaignProbe("group_buy", cid, max(fund, published.loser_bonus), "a winner's shopping fund")
    members = _members(shop, size)
    wins = [0] * size
    for g in range(DRAWS):
        gid = f"g{g}"
        shop.do("start_group_buy", member=members[0], campaign=cid, group=gid)
        for m in members[1:]:
            shop.do("join_group_buy", member=m, group=gid)
        for w in module.groups[gid].winners:
            wins[members.index(w)] += 1
    told = entry.get("disclosed", {})
    told_winners, told_size = told.get("winners", winners), told.get("group_size", size)
    probe.draws = DRAWS
    probe.p_value = seat_test(wins, DRAWS, told_winners / told_size)
    probe.disclosed = f"each seat wins {told_winners} in {told_size}"
    probe.realised = "wins by seat " + ", ".join(str(w) for w in wins) + f" of {DRAWS} groups"
    probe.frozen = _frozen(shop, cid, {"winners": 1 if winners > 1 else 2})
    probe.refused = shop.refused
    return probe


def _red_envelope(plan: PlanSpec, preset: Preset, entry: dict[str, Any], cid: str) -> CampaignProbe:
    shop = ProbeShop(plan, preset)
    _create(shop, preset, entry, cid)
    module: Any = shop.engine.modules["red_envelope"]
    campaign = module.campaigns[cid]
    start = {"size": 5, "winners": 1, **entry.get("start", {})}
    size, winners = int(start["size"]), int(start["winners"])
    envelope = campaign.state.get("red_envelope") or 0
    probe = CampaignProbe("red_envelope", cid, envelope, "the whole red envelope (the largest share it can be)")
    members = _members(shop, size)
    wins = [0] * size
    for g in range(DRAWS):
        gid = f"r{g}"
        shop.do("start_red_envelope", member=members[0], campaign=cid, group=gid, **start)
        for m in members[1:]:
            shop.do("join_red_envelope", member=m, group=gid)
        for w in module.groups[gid].winners:
            wins[members.index(w)] += 1
    told = entry.get("disclosed", {})
    told_winners, told_size = told.get("winners", winners), told.get("size", size)
    probe.draws = DRAWS
    probe.p_value = seat_test(wins, DRAWS, told_winners / told_size)
    probe.disclosed = f"each seat wins {told_winners} in {told_size}"
    probe.realised = "wins by seat " + ", ".join(str(w) for w in wins) + f" of {DRAWS} groups"
    probe.frozen = _frozen(shop, cid, {"expire_hours": 48})
    probe.refused = shop.refused
    return probe


def _blind_box(plan: PlanSpec, preset: Preset, entry: dict[str, Any], cid: str) -> CampaignProbe:
    shop = ProbeShop(plan, preset)
    module: Any = shop.engine.modules["blind_box"]
    starters = _members(shop, DRAWS)
    opener = shop.join("O")
    positions: list[int] = []
    params: dict[str, Any] = {}
    for i, starter in enumerate(starters):
        box = f"{cid}-{i}"
        params = {**entry.get("params", {}), "secret": secret_for(preset.seed, box)}
        if not shop.do("start_blind_box", member=starter, campaign=box, params=params, order=f"bs{i}"):
            break
        opened = 0
        while module.campaigns[box].status != "closed" and opened < 1000:
            opened += 1
            if not shop.do("open_blind_box", member=opener, campaign=box, order=f"bo{i}-{opened}"):
                break
        positions.append(opened)
    first = module.campaigns.get(f"{cid}-0")
    published = first.params if first is not None else None
    win_from = published.win_from if published else 1
    win_to = published.win_to if published else 1
    prize = shop.engine.products[published.prize_sku].price if published else 0
    probe = CampaignProbe("blind_box", cid, prize, "the prize product")
    told = entry.get("disclosed", {})
    lo, hi = told.get("win_from", win_from), told.get("win_to", win_to)
    counts = [positions.count(b) for b in range(lo, hi + 1)]
    outside = sum(1 for p in positions if not lo <= p <= hi)
    probe.draws = len(positions)
    probe.p_value = 0.0 if outside else uniform_test(counts)
    probe.disclosed = f"the prize is in one of boxes {lo}–{hi}, each equally likely"
    probe.realised = f"prize found at boxes {min(positions, default=0)}–{max(positions, default=0)} over " \
                     f"{len(positions)} sets" + (f"; {outside} outside the disclosed window" if outside else "")
    if first is not None:
        probe.frozen = _frozen(shop, first.id, {"open_price": "1.00"})
    probe.refused = shop.refused
    return probe


def _presale(plan: PlanSpec, preset: Preset, entry: dict[str, Any], cid: str) -> CampaignProbe:
    shop = ProbeShop(plan, preset)
    _create(shop, preset, entry, cid)
    module: Any = shop.engine.modules["presale"]
    campaign = module.campaigns[cid]
    price = campaign.params.price
    probe = CampaignProbe("presale", cid, price, "a free purchase (the whole price back)")
    probe.frozen = _frozen(shop, cid, {"free_every": 1})
    probe.refused = shop.refused
    return probe
