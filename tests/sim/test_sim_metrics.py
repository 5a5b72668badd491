"""The end distributions: Gini and top shares, net results, paid levels on the invitation graph."""

from __future__ import annotations

from liandong.sim.metrics import _level, concentration, loss_summary, net_distribution


def test_gini_and_top_shares_of_a_known_distribution() -> None:
    # 4 members, one got everything: Gini = 1 - 1/n = 0.75; the top 1% (one member at least) holds it all
    c = concentration([0, 0, 0, 10000])
    assert c["gini"] == 0.75
    assert c["top_1pct_share"] == 1.0 and c["top_10pct_share"] == 1.0
    assert c["lorenz"]["rewards"][-1] == 1.0 and c["lorenz"]["rewards"][0] == 0.0
    even = concentration([500] * 10)
    assert even["gini"] == 0.0 and even["top_10pct_share"] == 0.1


def test_nobody_paid_has_no_concentration() -> None:
    assert concentration([0, 0])["gini"] is None


def test_net_distribution_counts_the_share_below_zero_exactly() -> None:
    d = net_distribution([-69900, -49900, 0, 1000, 242525])
    assert d["share_below_zero"] == 0.4
    assert d["min"] == "-699.00" and d["max"] == "2425.25"
    assert d["quantiles"]["p50"] == "0.00"
    assert sum(d["histogram"]["counts"]) == 5
    assert d["mean"] == "247.45"  # floor of 123725 / 5 fen


def test_loss_summary_of_nobody_is_empty() -> None:
    assert loss_summary([]) == {"members": 0, "share_net_loss": None, "median_net": None}
    assert loss_summary([-1, -1, 5]) == {"members": 3, "share_net_loss": 0.666667, "median_net": "-0.01"}


def test_paid_level_counts_steps_up_the_invitation_graph() -> None:
    referrer = [-1, 0, 1, 2, 0]  # 0 <- 1 <- 2 <- 3 and 0 <- 4
    assert _level(referrer, 3, 3) == 0
    assert _level(referrer, 3, 2) == 1
    assert _level(referrer, 3, 0) == 3
    assert _level(referrer, 3, 4) == -1  # not above the buyer
