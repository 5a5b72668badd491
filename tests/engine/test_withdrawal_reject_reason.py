"""A rejected withdrawal says why: ``reject_withdrawal``'s ``reason`` (trimmed, 1–200 characters) is kept on the
withdrawal and its projection; a reason given empty, too long or with a control character is refused and nothing
moves; an event without one (old logs, the shared scenario) is applied with an empty reason."""

from __future__ import annotations

from typing import Any

from liandong import scenario as sc
from liandong.engine.core import reject_reason_refusal
from liandong.engine.errors import Code
from liandong.service.projections import withdrawal_row

# A +100.00 for B's gift pack; A asks for 60.00 (w5, the fifth event: withdrawal ids count events)
SETUP: list[dict[str, Any]] = [
    {"join": "A"}, {"pay": "A", "sku": "GIFT"}, {"join": "B", "referrer": "A"}, {"pay": "B", "sku": "GIFT"},
    {"withdraw": "A", "amount": "60.00", "withdrawal": "w5"},
]


def run(*events: dict[str, Any]) -> sc.Replay:
    doc = {"name": "reject reasons", "plan": "chain21", "products": [{"sku": "GIFT", "price": "699.00",
                                                                       "gift_pack": True}],
           "events": [*SETUP, *events]}
    return sc.replay(sc.parse(doc), check_invariants=True)


def test_the_reason_is_trimmed_kept_and_projected_and_the_amount_returns() -> None:
    result = run({"reject_withdrawal": "w5", "reason": "  the payee account name does not match your real name\n"})
    assert result.outcomes[-1].refusal is None
    w = result.engine.withdrawals["w5"]
    assert (w.status, w.reason) == ("rejected", "the payee account name does not match your real name")
    assert withdrawal_row(result.engine, "w5")["reason"] == "the payee account name does not match your real name"
    assert (result.engine.balance("A"), result.engine.balance("A", "withdrawing")) == (10000, 0)


def test_a_line_break_inside_the_reason_is_kept_and_200_characters_are_enough() -> None:
    two_lines = run({"reject_withdrawal": "w5", "reason": "name mismatch\nplease use your own account"})
    assert two_lines.engine.withdrawals["w5"].reason == "name mismatch\nplease use your own account"
    longest = run({"reject_withdrawal": "w5", "reason": "理" * 200})
    assert longest.outcomes[-1].refusal is None and len(longest.engine.withdrawals["w5"].reason) == 200


def test_an_empty_a_blank_a_too_long_or_a_tabbed_reason_is_refused_naming_the_field_and_nothing_moves() -> None:
    for given, shown in (("", ""), ("   \n ", ""), ("x" * 201, "x" * 40 + "…"), ("name\tmismatch", "name\tmismatch")):
        result = run({"reject_withdrawal": "w5", "reason": given})
        refusal = result.outcomes[-1].refusal
        assert refusal is not None, given
        assert (refusal.code, refusal.field, refusal.value) == (Code.WITHDRAWAL_REASON_INVALID, "reason", shown)
        assert refusal.message() == (f"reason “{shown}”: rejecting withdrawal w5 needs a reason the member can read, "
                                     "1–200 characters without control characters")
        w = result.engine.withdrawals["w5"]
        assert (w.status, w.reason) == ("requested", "")
        assert (result.engine.balance("A"), result.engine.balance("A", "withdrawing")) == (4000, 6000)


def test_without_a_reason_an_old_log_s_rejection_is_applied_with_an_empty_one() -> None:
    result = run({"reject_withdrawal": "w5"})
    assert result.outcomes[-1].refusal is None
    assert (result.engine.withdrawals["w5"].status, result.engine.withdrawals["w5"].reason) == ("rejected", "")
    assert withdrawal_row(result.engine, "w5")["reason"] == ""


def test_the_state_of_the_withdrawal_is_refused_before_its_reason() -> None:
    result = run({"approve_withdrawal": "w5"}, {"reject_withdrawal": "w5", "reason": ""},
                 {"reject_withdrawal": "w99", "reason": ""})
    assert [o.refusal.code for o in result.outcomes[-2:]] == [Code.WITHDRAWAL_DECIDED, Code.WITHDRAWAL_UNKNOWN]


def test_reject_reason_refusal_reads_like_the_rule() -> None:
    assert reject_reason_refusal(None, "w1") is None
    assert reject_reason_refusal("account closed", "w1") is None
    refusal = reject_reason_refusal("", "w1")
    assert refusal is not None and (refusal.code, refusal.params) == (Code.WITHDRAWAL_REASON_INVALID,
                                                                       {"withdrawal": "w1"})
