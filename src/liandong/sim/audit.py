"""``liandong audit PLAN_FILE``: simulations and probes, graded check by check against cited thresholds.

Evidence: a normal growth run and a growth-stall run (the same shop, nobody joins from ``stall_day`` on), both
through the engine; the attack probes (``probes.py``) and, for a plan file's lotteries and blind boxes, the draw
probes (``lottery.py``). Each check reports its figure, its threshold, pass / warn / fail (or n/a) and the sources
of the threshold (``sources.py``). The exit code is 1 when any check fails, so an audit can gate a plan change.

Example (chain21 defaults, default preset): pay reaches 7 levels up the invitation graph (fail: the 2013 opinion's
3 levels); 95% of rewards are triggered by recruits' entry purchases (fail: over 50%); a member who bought nothing
earns nothing on its recruits and the cheapest purchase that changes that is the 699.00 gift pack (fail: an entry
fee in disguise, 禁止传销条例 Art. 7(2)).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from ..engine.money import format_fen, parse_yuan
from .lottery import CampaignProbe, probe_campaigns
from .parallel import Progress, run_tasks, task_for
from .planfile import PlanSpec
from .preset import Preset
from .probes import EntryResult, ProbeResult, entry_required, rejoin, sybil
from .sources import SOURCES

PASS, WARN, FAIL, NA = "pass", "warn", "fail", "n/a"
PRIZE_CAP = 5_000_000  # 50,000.00 yuan in fen (Anti-Unfair Competition Law)
CRIMINAL_MEMBERS, CRIMINAL_LEVELS = 30, 3  # the 2013 opinion


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    figure: str
    threshold: str
    status: str
    sources: tuple[str, ...]
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["sources"] = list(self.sources)
        return data


@dataclass(frozen=True)
class Evidence:
    plan: PlanSpec
    preset: Preset
    growth: dict[str, Any]
    stall: dict[str, Any]
    stall_day: int
    sybil: ProbeResult
    rejoin: ProbeResult
    entry: EntryResult
    campaigns: list[CampaignProbe]
    #: the Sybil probe in a shop that also runs the fraud holds (``probes.HOLDS``); None when not run
    sybil_held: ProbeResult | None = None


def pct(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.1f}%"


def grade(value: float, fail_above: float, warn_above: float) -> str:
    return FAIL if value > fail_above else WARN if value > warn_above else PASS


# --- the checks, in the order -----------------------------------------------------------------------------


def payout_vs_margin(e: Evidence) -> Check:
    t = e.growth["totals"]
    payout, margin = t["payout_ratio"] or 0.0, t["gross_margin_ratio"] or 0.0
    status = FAIL if payout > margin else WARN if payout > 0.30 else PASS
    return Check("payout_vs_margin", "Payout ratio against gross margin",
                 f"rewards {t['rewards']} + pools {t['committed_in_pools']} = {pct(payout)} of sales {t['sales']}; "
                 f"gross margin {pct(margin)}",
                 "fail above the gross margin (pay that the goods do not earn); warn above 30% of sales",
                 status, ("direct_selling_art24", "project"))


def stall_cash(e: Evidence) -> Check:
    t = e.stall["totals"]
    margins = e.stall["series"]["margin_cum"]
    at_stall = parse_yuan(margins[min(e.stall_day, len(margins)) - 1]) if e.stall_day > 0 else 0
    end = parse_yuan(t["margin"])
    after = end - at_stall
    status = FAIL if end < 0 else WARN if after < 0 else PASS
    return Check("stall_cash", "Platform after a growth stall",
                 f"nobody joins from day {e.stall_day}: margin {format_fen(at_stall)} at the stall, "
                 f"{format_fen(end)} at day {len(margins) - 1} ({format_fen(after)} after the stall); cash "
                 f"{t['cash']}, owed to members {t['liabilities']}",
                 "fail when the margin ends below zero; warn when the plan loses money once growth stops",
                 status, ("ftc_2018", "project"))


def paid_levels(e: Evidence) -> Check:
    c = e.growth["classification"]
    levels = c["max_paid_level"]
    status = FAIL if levels >= CRIMINAL_LEVELS else WARN if levels == 2 else PASS
    by_level = ", ".join(f"{k if k in ('pooled', 'other') else 'level ' + k}: {v}"
                         for k, v in c["rewards_by_level"].items())
    return Check("paid_levels", "Depth of paid levels (on the invitation graph)",
                 f"pay reaches {levels} level(s) above the buyer ({by_level})",
                 f"fail at {CRIMINAL_LEVELS} or more levels, warn at 2",
                 status, ("opinion_2013", "anti_pyramid_art7"))


def network_depth(e: Evidence) -> Check:
    g = e.growth
    levels, members = g["depth"]["max"] + 1, g["totals"]["members"]
    c = g["classification"]
    tied = (c["recruitment_triggered_share"] or 0) > 0.5 or (c["team_based_share"] or 0) > 0
    deep = levels >= CRIMINAL_LEVELS and members >= CRIMINAL_MEMBERS
    status = FAIL if deep and tied else WARN if deep else PASS
    return Check("network_depth", "Depth of the network (original invitation graph)",
                 f"{levels} levels, {members} members; pay tied to recruitment or downline sales: "
                 f"{'yes' if tied else 'no'}",
                 f"fail at {CRIMINAL_MEMBERS}+ members in {CRIMINAL_LEVELS}+ levels with pay tied to recruitment or "
                 "downline sales; warn for such a network with pay on one's own referrals' purchases only",
                 status, ("opinion_2013", "anti_pyramid_art7"))


def recruitment_share(e: Evidence) -> Check:
    share = e.growth["classification"]["recruitment_triggered_share"] or 0.0
    return Check("recruitment_share", "Rewards triggered by recruitment or recruits' entry purchases",
                 f"{pct(share)} of rewards", "fail above 50%, warn above 20%",
                 grade(share, 0.5, 0.2), ("anti_pyramid_art7", "ftc_2018", "project"))


def entry_needed(e: Evidence) -> Check:
    r = e.entry
    threshold = "fail when only an entry package (gift pack) unlocks earning; warn when any purchase is required"
    sources = ("anti_pyramid_art7",)
    if r.earns_without_purchase > 0:
        return Check("entry_required", "Entry package required to earn",
                     f"a member who bought nothing was paid {format_fen(r.earns_without_purchase)} on its recruits' "
                     "orders", threshold, PASS, sources)
    if r.cheapest_unlock is None:
        return Check("entry_required", "Entry package required to earn",
                     "no purchase made a referrer earn on its recruits' orders", threshold, PASS, sources)
    what = "the entry package" if r.gift_pack else "a purchase of"
    return Check("entry_required", "Entry package required to earn",
                 f"a member earns nothing on its recruits until it buys {what} {r.cheapest_unlock} "
                 f"({format_fen(r.unlock_price)})", threshold, FAIL if r.gift_pack else WARN, sources)


def team_pay(e: Evidence) -> Check:
    share = e.growth["classification"]["team_based_share"] or 0.0
    return Check("team_pay", "Team-based pay on others' sales",
                 f"{pct(share)} of rewards are paid on sales of members other than one's own referrals",
                 "fail above 0%", FAIL if share > 0 else PASS, ("anti_pyramid_art7", "direct_selling_art24"))


def own_sales(e: Evidence) -> Check:
    c = e.growth["classification"]
    share = c["share_earners_over_30pct_of_own_sales"]
    status = NA if share is None else FAIL if share > 0 else PASS
    return Check("own_sales_30pct", "Pay against one's own sales (30% cap)",
                 f"{pct(share)} of the {c['referral_earners']} members paid on others' orders were paid more than "
                 f"30% of their own sales; overall {pct(c['referral_pay_to_own_sales'])}",
                 "fail when any member is paid more than 30% of its own sales", status, ("direct_selling_art24",))


def never_earning(e: Evidence) -> Check:
    share = e.growth["classification"]["share_sales_to_never_earning"]
    status = NA if share is None else FAIL if share < 0.3 else WARN if share < 0.5 else PASS
    return Check("never_earning_sales", "Sales to buyers who never earn",
                 f"{pct(share)} of sales went to members who were never paid a reward",
                 "fail below 30%, warn below 50% (most sales should reach customers, not participants)",
                 status, ("ftc_2018", "project"))


def net_loss(e: Evidence) -> Check:
    ages = e.growth["ages"]
    parts, judged = [], None
    for age, data in ages.items():
        row = data["entry_buyers"]
        if row["members"]:
            parts.append(f"{age} d: {pct(row['share_net_loss'])} (median {row['median_net']}, {row['members']})")
            judged = row
        else:
            parts.append(f"{age} d: " + ("no entry buyers" if data["all"]["members"] else "not reached"))
    if judged is None:
        return Check("net_loss", "Members with a net loss (entry buyers, by days since joining)",
                     "; ".join(parts), "fail when over half lose or the median is below zero; warn above 25%",
                     NA, ("ftc_2018", "project"), "no member bought an entry package")
    share = judged["share_net_loss"] or 0.0
    status = FAIL if share > 0.5 or parse_yuan(judged["median_net"]) < 0 else WARN if share > 0.25 else PASS
    detail = ""
    if status == FAIL and not e.entry.gift_pack:
        status, detail = WARN, ("earning does not require the entry package here: what entry buyers spent may be "
                                "consumption, not a stake")
    return Check("net_loss", "Members with a net loss (entry buyers, by days since joining)", "; ".join(parts),
                 "fail when over half lose or the median is below zero (at the longest age reached); warn above 25%",
                 status, ("ftc_2018", "project"), detail)


def top_shares(e: Evidence) -> Check:
    c = e.growth["rewards_concentration"]
    top1, top10 = c["top_1pct_share"] or 0.0, c["top_10pct_share"] or 0.0
    status = FAIL if top1 > 0.5 else WARN if top10 > 0.5 or top1 > 0.2 else PASS
    return Check("top_shares", "Top 1% and top 10% shares of rewards",
                 f"top 1%: {pct(top1)}, top 10%: {pct(top10)} (Gini {c['gini']})",
                 "fail when the top 1% take over half; warn when the top 10% take over half or the top 1% over 20%",
                 status, ("ftc_2018", "project"))


def early_late(e: Evidence) -> Check:
    c = e.growth["classification"]
    ratio = c["early_late_ratio"]
    early = parse_yuan(c["early_mean_rewards"]) if c["early_mean_rewards"] else 0
    status = (FAIL if early > 0 else NA) if ratio is None else grade(ratio, 10.0, 3.0)
    shown = "∞ (the late half earned nothing)" if ratio is None and early > 0 else str(ratio)
    return Check("early_late", "Early against late joiners",
                 f"mean rewards of the first 10% of joiners {c['early_mean_rewards']} against the last 50% "
                 f"{c['late_mean_rewards']}: ratio {shown}", "fail above 10, warn above 3",
                 status, ("ftc_2018", "emek_2011", "project"))


def sybil_gain(e: Evidence) -> Check:
    """The best Sybil gain, and with the fraud holds on what of it gets past them (the status is the gain without
    holds: a hold waits for an operator's review, it decides nothing by itself)."""
    r = e.sybil
    figure = f"best gain {format_fen(r.gain)}: {r.case} ({r.cases} cases)"
    if e.sybil_held is not None:
        h = e.sybil_held
        removed = max(r.gain, 0) - max(h.gain, 0)
        figure += (f"; with fraud holds on (self-referral, duplicate payout account): best gain {format_fen(h.gain)}"
                   f"{': ' + h.case if h.gain > 0 else ''}, the holds remove {format_fen(removed)} of it")
    return Check("sybil_gain", "Sybil gain (fake identities in a chain or as siblings)", figure,
                 "fail when any case gains more than 0.00", FAIL if r.gain > 0 else PASS, ("emek_2011", "drucker_2012"))


def rejoin_gain(e: Evidence) -> Check:
    r = e.rejoin
    return Check("rejoin_gain", "Gain from leaving and rejoining elsewhere",
                 f"best gain {format_fen(r.gain)}: {r.case} ({r.cases} cases)",
                 "fail when any case gains more than 0.00", FAIL if r.gain > 0 else PASS, ("emek_2011", "project"))


def lottery_prize(e: Evidence) -> Check:
    if not e.campaigns:
        return Check("largest_prize", "Largest lottery or blind-box prize", "no lotteries or blind boxes in the plan",
                     "fail above 50,000.00", NA, ("aucl_prize_cap",))
    top = max(e.campaigns, key=lambda c: c.largest_prize)
    return Check("largest_prize", "Largest lottery or blind-box prize",
                 f"{format_fen(top.largest_prize)}: {top.prize_what} ({top.kind} {top.campaign})",
                 "fail above 50,000.00", FAIL if top.largest_prize > PRIZE_CAP else PASS, ("aucl_prize_cap",))


def draw_odds(e: Evidence) -> Check:
    drawn = [c for c in e.campaigns if c.p_value is not None]
    if not drawn:
        return Check("draw_odds", "Disclosed odds against realised odds (chi-square)", "no drawn campaigns",
                     "fail at p < 0.001, warn at p < 0.01", NA, ("samr_blind_box_2023",))
    worst = min(drawn, key=lambda c: c.p_value or 0.0)
    p = worst.p_value or 0.0
    figure = "; ".join(f"{c.kind} {c.campaign}: told {c.disclosed}; {c.realised}; p = {c.p_value:.4g}"
                       for c in drawn)
    return Check("draw_odds", "Disclosed odds against realised odds (chi-square)", figure,
                 "fail at p < 0.001, warn at p < 0.01", FAIL if p < 0.001 else WARN if p < 0.01 else PASS,
                 ("samr_blind_box_2023",))


def frozen_rules(e: Evidence) -> Check:
    probed = [c for c in e.campaigns if c.frozen is not None]
    if not probed:
        return Check("frozen_rules", "Rules frozen once published", "no campaigns",
                     "fail when a published campaign's rules can be changed", NA, ("samr_blind_box_2023",))
    open_to_change = [f"{c.kind} {c.campaign}" for c in probed if not c.frozen]
    figure = ("changes refused for every published campaign" if not open_to_change
              else f"rules changed after publishing: {', '.join(open_to_change)}")
    return Check("frozen_rules", "Rules frozen once published", figure,
                 "fail when a published campaign's rules can be changed", FAIL if open_to_change else PASS,
                 ("samr_blind_box_2023",))


CHECKS: tuple[Callable[[Evidence], Check], ...] = (
    payout_vs_margin, stall_cash, paid_levels, network_depth, recruitment_share, entry_needed, team_pay, own_sales,
    never_earning, net_loss, top_shares, early_late, sybil_gain, rejoin_gain, lottery_prize, draw_odds, frozen_rules,
)


# --- running it ---------------------------------------------------------------------------------------------------


def gather(plan: PlanSpec, preset: Preset, stall_day: int, *, workers: int | None = None, dask: str | None = None,
           progress: Progress | None = None) -> Evidence:
    """Run the two simulations (side by side when there are processes to spare) and the probes."""
    tasks = [task_for(plan, preset, 0, seed=preset.seed),
             task_for(plan, preset.with_overrides(stall_day=stall_day), 1, seed=preset.seed)]
    growth, stall = run_tasks(tasks, workers=workers, dask=dask, progress=progress)
    return Evidence(plan, preset, growth["metrics"], stall["metrics"], stall_day, sybil(plan, preset),
                    rejoin(plan, preset), entry_required(plan, preset), probe_campaigns(plan, preset),
                    sybil_held=sybil(plan, preset, holds=True))


def audit_doc(e: Evidence) -> dict[str, Any]:
    checks = [check(e) for check in CHECKS]
    statuses = {c.status for c in checks}
    verdict = FAIL if FAIL in statuses else WARN if WARN in statuses else PASS
    used = sorted({s for c in checks for s in c.sources})
    return {
        "plan": e.plan.label, "plans": e.plan.plans, "campaigns": e.plan.campaigns,
        "preset": e.preset.describe(), "stall_day": e.stall_day,
        "verdict": verdict, "counts": {s: sum(1 for c in checks if c.status == s) for s in (PASS, WARN, FAIL, NA)},
        "checks": [c.to_json() for c in checks],
        "sources": {key: asdict(SOURCES[key]) for key in used},
        "probes": {"sybil": e.sybil.to_json(),
                   "sybil_with_holds": e.sybil_held.to_json() if e.sybil_held is not None else None,
                   "rejoin": e.rejoin.to_json(), "entry": e.entry.to_json(),
                   "campaigns": [c.to_json() for c in e.campaigns]},
        "growth": {k: v for k, v in e.growth.items() if k != "series"},
        "stall": {k: v for k, v in e.stall.items() if k != "series"},
        "series": {"growth": _series_for_report(e.growth), "stall": _series_for_report(e.stall)},
    }


def _series_for_report(metrics: dict[str, Any]) -> dict[str, Any]:
    s = metrics["series"]
    return {k: s[k] for k in ("day", "members", "sales_cum", "rewards_cum", "margin_cum", "cash", "liabilities",
                              "payout_ratio")}
