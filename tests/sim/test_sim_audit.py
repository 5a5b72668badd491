"""Each audit check made to pass and to fail (and warn, where it can) by a crafted plan on a small shop."""

from __future__ import annotations

from typing import Any

import pytest

from liandong.sim import audit
from liandong.sim.lottery import CampaignProbe, seat_test, uniform_test
from liandong.sim.planfile import parse_plan_doc
from liandong.sim.preset import Preset, load_preset
from liandong.sim.probes import entry_required

#: A shop of 400 that grows mostly by referral (few members join on their own) over 100 days.
SMALL = load_preset().with_overrides(members=400, days=100, market={"innovation": 0.000002, "imitation": 0.3})
#: The same shop where new members first buy the tea, not the gift pack (nobody buys an entry package).
RETAIL = SMALL.with_overrides(purchases={"first_sku": "TEA"})
#: Almost nobody recruits, and the few who do bring hundreds.
CONCENTRATED = load_preset().with_overrides(members=400, days=100, recruiting={"never_share": 0.98, "mean": 300})
#: Nobody recruits at all: every member joins on its own.
FLAT = SMALL.with_overrides(recruiting={"never_share": 1.0}, market={"innovation": 0.0005})
PLAIN = {"plan": "distribution", "levels": 1, "rates": ["0.10"]}

SHOPS: dict[str, tuple[dict[str, Any], Preset]] = {
    "chain21": ({"plan": "chain21"}, SMALL),
    "referral": (PLAIN, RETAIL),
    "chain21_rich": ({"plan": "chain21", "direct_reward": {"agent": "600.00", "partner": "600.00"},
                      "team_reward": "600.00"}, SMALL),
    "full_rebate": ({"plan": "distribution", "self_commission": True, "rates": ["1.00"]}, SMALL),
    "points": ({"plan": "points"}, SMALL),
    "two_levels": ({"plan": "distribution", "levels": 2, "rates": ["0.10", "0.05"]}, RETAIL),
    "concentrated": (PLAIN, CONCENTRATED),
    "flat": ({"plan": "chain21"}, FLAT),
}


@pytest.fixture(scope="module")
def statuses() -> dict[str, dict[str, str]]:
    """Each crafted shop's audit: check id -> status."""
    out = {}
    for name, (doc, preset) in SHOPS.items():
        evidence = audit.gather(parse_plan_doc(doc, name, preset), preset, 30, workers=1)
        out[name] = {c["id"]: c["status"] for c in audit.audit_doc(evidence)["checks"]}
    return out


@pytest.mark.parametrize("check, shop, expected", [
    ("payout_vs_margin", "chain21_rich", "fail"), ("payout_vs_margin", "points", "warn"),
    ("payout_vs_margin", "referral", "pass"),
    ("stall_cash", "chain21_rich", "fail"), ("stall_cash", "referral", "pass"),
    ("paid_levels", "chain21", "fail"), ("paid_levels", "two_levels", "warn"), ("paid_levels", "referral", "pass"),
    ("network_depth", "chain21", "fail"), ("network_depth", "referral", "warn"), ("network_depth", "flat", "pass"),
    ("recruitment_share", "chain21", "fail"), ("recruitment_share", "referral", "pass"),
    ("entry_required", "chain21", "fail"), ("entry_required", "referral", "pass"),
    ("team_pay", "two_levels", "fail"), ("team_pay", "referral", "pass"),
    ("own_sales_30pct", "chain21", "fail"), ("own_sales_30pct", "referral", "pass"),
    ("never_earning_sales", "points", "fail"), ("never_earning_sales", "referral", "pass"),
    ("net_loss", "chain21", "fail"), ("net_loss", "points", "warn"), ("net_loss", "full_rebate", "pass"),
    ("net_loss", "referral", "n/a"),
    ("top_shares", "concentrated", "fail"), ("top_shares", "full_rebate", "pass"),
    ("early_late", "concentrated", "fail"), ("early_late", "full_rebate", "pass"),
    ("sybil_gain", "chain21", "fail"), ("sybil_gain", "two_levels", "fail"), ("sybil_gain", "referral", "pass"),
    ("rejoin_gain", "chain21", "fail"), ("rejoin_gain", "referral", "pass"),
    ("largest_prize", "referral", "n/a"), ("draw_odds", "referral", "n/a"), ("frozen_rules", "referral", "n/a"),
])
def test_check_grades_the_crafted_shop(statuses: dict[str, dict[str, str]], check: str, shop: str,
                                       expected: str) -> None:
    assert statuses[shop][check] == expected


def test_entry_required_warns_when_any_purchase_unlocks_earning() -> None:
    preset = SMALL
    plan = parse_plan_doc({**PLAIN, "eligibility": "after_purchase"}, "t", preset)
    result = entry_required(plan, preset)
    assert (result.cheapest_unlock, result.unlock_price, result.gift_pack) == ("TEA", 5900, False)
    evidence = audit.Evidence(plan, preset, {}, {}, 1, None, None, result, [])  # type: ignore[arg-type]
    assert audit.entry_needed(evidence).status == "warn"


BOX_SHOP = RETAIL.with_overrides(products=[*RETAIL.describe()["products"],
                                           {"sku": "BOX", "price": "99.00", "red_envelope": "10.00"}])


def campaign_checks(campaigns: list[dict[str, Any]]) -> dict[str, audit.Check]:
    plan = parse_plan_doc({**PLAIN, "campaigns": campaigns}, "t", BOX_SHOP)
    evidence = audit.gather(plan, BOX_SHOP.with_overrides(members=60, days=20), 5, workers=1)
    return {c.id: c for c in (check(evidence) for check in audit.CHECKS)}


def test_fair_lotteries_with_honest_pages_pass() -> None:
    checks = campaign_checks([
        {"kind": "group_buy", "params": {"sku": "TEA"}},
        {"kind": "red_envelope", "params": {"sku": "BOX"}, "start": {"size": 4, "winners": 1}},
        {"kind": "blind_box", "params": {"prize_sku": "BOX"}},
        {"kind": "presale", "params": {"sku": "TEA"}},
    ])
    assert checks["largest_prize"].status == "pass" and "100.00" in checks["largest_prize"].figure
    assert checks["draw_odds"].status == "pass"
    assert checks["frozen_rules"].status == "pass"


def test_a_page_that_overstates_the_odds_and_a_prize_over_the_cap_fail() -> None:
    checks = campaign_checks([
        {"kind": "group_buy", "params": {"sku": "TEA", "winner_fund": "60000.00"}, "disclosed": {"winners": 3}},
    ])
    assert checks["largest_prize"].status == "fail" and "60000.00" in checks["largest_prize"].figure
    assert checks["draw_odds"].status == "fail"
    assert "each seat wins 3 in 5" in checks["draw_odds"].figure


def test_a_blind_box_window_wider_than_published_fails_the_odds() -> None:
    checks = campaign_checks([{"kind": "blind_box", "params": {"prize_sku": "BOX"}, "disclosed": {"win_from": 1}}])
    assert checks["draw_odds"].status == "fail"


def test_rules_that_change_after_publishing_fail() -> None:
    # The engine refuses every change to a published campaign, so only a probe result can show the other case.
    evidence = audit.Evidence(None, SMALL, {}, {}, 1, None, None, None,  # type: ignore[arg-type]
                              [CampaignProbe("group_buy", "c0", 100, "fund", frozen=False)])
    assert audit.frozen_rules(evidence).status == "fail"


def test_the_odds_tests_tell_fair_counts_from_biased_ones() -> None:
    assert seat_test([160, 158, 162, 161, 159], 400, 0.4) > 0.5
    assert seat_test([240, 80, 160, 160, 160], 400, 0.4) < 0.001
    assert seat_test([1, 0], 10, 0.0) == 0.0  # a win members were told cannot happen
    assert uniform_test([20] * 18) == 1.0
    assert uniform_test([40] + [10] * 17) < 0.001
