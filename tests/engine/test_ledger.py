"""The double-entry ledger: balanced postings per unit, untouched balances on a bug, invariants that catch tampering."""

from __future__ import annotations

import dataclasses

import pytest

from liandong.engine import Shop
from liandong.engine import events as ev
from liandong.engine.core import DEFAULT_START, Product
from liandong.engine.ledger import NON_CASH_UNITS, Ledger, LedgerError, is_member_account
from liandong.engine.plans import chain21  # noqa: F401  (registers the chain21 reward rules)
from liandong.engine.registry import new_engine

PAYMENTS = ("@external", "payments")
SALES = ("@platform", "sales")
EXPENSE = ("@platform", "reward_expense")


def _sold_and_rewarded() -> Ledger:
    ledger = Ledger()
    ledger.post(1, "sale", ((PAYMENTS, -69900), (SALES, 69900)), order="o1", source="B")
    ledger.post(1, "direct_reward", ((EXPENSE, -10000), (("A", "available"), 10000)), order="o1", source="B")
    return ledger


def test_a_balanced_posting_moves_every_balance_and_numbers_the_transaction() -> None:
    ledger = _sold_and_rewarded()
    assert ledger.balances == {PAYMENTS: -69900, SALES: 69900, EXPENSE: -10000, ("A", "available"): 10000}
    assert [(t.id, t.event, t.rule, t.order, t.source) for t in ledger.transactions] == [
        (1, 1, "sale", "o1", "B"), (2, 1, "direct_reward", "o1", "B"),
    ]
    assert ledger.count == 2
    assert ledger.check_invariants() == []


def test_an_unbalanced_posting_raises_and_leaves_every_balance_untouched() -> None:
    ledger = _sold_and_rewarded()
    before = dict(ledger.balances)
    with pytest.raises(LedgerError, match="unbalanced team_reward transaction"):
        ledger.post(2, "team_reward", ((EXPENSE, -20000), (("A", "available"), 16000), (("A", "help_fund"), 3999)))
    assert ledger.balances == before
    assert ledger.count == 2
    assert len(ledger.transactions) == 2
    assert ledger.check_invariants() == []


def test_a_non_cash_book_balances_in_its_own_unit() -> None:
    ledger = Ledger()
    ledger.post(1, "coupon_issued", ((("@platform", "coupons_issued"), -1), (("B", "coupons"), 1)))
    ledger.post(2, "mixed", ((PAYMENTS, -500), (SALES, 500),
                             (("B", "coupons"), -1), (("@platform", "coupons_issued"), 1)))
    assert ledger.balances[("B", "coupons")] == 0
    with pytest.raises(LedgerError):  # money cannot turn into coupons: each unit sums to zero on its own
        ledger.post(3, "convert", ((("B", "available"), -1), (("B", "coupons"), 1)))
    assert ledger.check_invariants() == []
    assert ledger.balances.get(("B", "available"), 0) == 0


def test_a_coupon_credit_is_not_counted_as_money_paid_to_the_member() -> None:
    ledger = Ledger()
    txn = ledger.post(1, "coupon_issued", ((("@platform", "coupons_issued"), -3), (("B", "coupons"), 3)))
    assert txn.amount_for("B") == 0


def test_a_transfer_of_zero_posts_nothing() -> None:
    ledger = Ledger()
    assert ledger.transfer(1, "sale", PAYMENTS, SALES, 0) is None
    assert (ledger.count, ledger.transactions, ledger.balances) == (0, [], {})


def test_a_transfer_is_two_opposite_entries() -> None:
    ledger = Ledger()
    txn = ledger.transfer(3, "withdrawal", ("A", "available"), ("A", "withdrawing"), 4000, ref="w1")
    assert txn is not None
    assert txn.entries == ((("A", "available"), -4000), (("A", "withdrawing"), 4000))
    assert (txn.event, txn.ref) == (3, "w1")


def test_rewards_count_the_member_side_of_reward_rules_less_reversals() -> None:
    ledger = _sold_and_rewarded()
    ledger.post(2, "team_reward", ((EXPENSE, -20000), (("L", "available"), 16000), (("L", "help_fund"), 4000)))
    ledger.post(3, "direct_reward", ((("A", "available"), -10000), (EXPENSE, 10000)), reverses=2)
    ledger.post(4, "withdrawal", ((("L", "available"), -1000), (("L", "withdrawing"), 1000)))
    assert ledger.rewards_fen() == 20000


def test_check_invariants_catches_a_tampered_balance() -> None:
    ledger = _sold_and_rewarded()
    ledger.balances[("A", "available")] += 1
    assert ledger.check_invariants() == ["balance of A/available is 10001 but its entries sum to 10000"]


def test_check_invariants_catches_a_balance_with_no_entries() -> None:
    ledger = _sold_and_rewarded()
    ledger.balances[("Z", "available")] = 5
    assert ledger.check_invariants() == ["balance of Z/available is 5 but its entries sum to 0"]


def test_check_invariants_catches_a_tampered_transaction() -> None:
    ledger = _sold_and_rewarded()
    txn = ledger.transactions[1]
    ledger.transactions[1] = dataclasses.replace(txn, entries=((EXPENSE, -10000), (("A", "available"), 10001)))
    problems = ledger.check_invariants()
    assert problems[0] == "transaction 2 (direct_reward) does not sum to zero: {'fen': 1}"
    assert "balance of A/available is 10000 but its entries sum to 10001" in problems


def _unkept_sold_and_rewarded() -> Ledger:
    ledger = Ledger(keep_transactions=False)
    ledger.post(1, "sale", ((PAYMENTS, -69900), (SALES, 69900)))
    ledger.transfer(1, "direct_reward", EXPENSE, ("A", "available"), 10000)
    ledger.transfer(1, "team_reward", EXPENSE, ("L", "available"), 20000)
    assert ledger.transactions == []
    assert ledger.check_invariants() == []
    return ledger


def test_without_kept_transactions_a_balance_changed_outside_a_transaction_is_caught() -> None:
    ledger = _unkept_sold_and_rewarded()
    ledger.balances[SALES] -= 1
    assert ledger.check_invariants() == [
        "balances in book sales sum to 69899 but the entries posted to it sum to 69900"]


def test_without_kept_transactions_money_moved_between_two_accounts_without_entries_is_caught() -> None:
    # every balance still sums to zero, and book by book too: only the entries can tell
    ledger = _unkept_sold_and_rewarded()
    ledger.balances[("A", "available")] -= 1
    ledger.balances[("L", "available")] += 1
    assert ledger.check_invariants() == [
        "the balances are not what the entries posted put in them (a balance was changed or moved outside a "
        "transaction)"]


def test_without_kept_transactions_an_unbalanced_entry_smuggled_past_post_is_caught() -> None:
    # a posting path that skips post's own check: the balance and the running sums both take the one-sided entry
    ledger = _unkept_sold_and_rewarded()
    ledger.balances[("A", "available")] += 500
    ledger._add_to_running_sums(((("A", "available"), 500),))
    assert ledger.check_invariants() == ["the entries posted in fen sum to 500, not zero"]


def test_without_kept_transactions_a_book_that_changes_unit_after_postings_is_caught() -> None:
    ledger = _unkept_sold_and_rewarded()
    ledger.transfer(2, "convert", ("A", "available"), ("A", "tokens_x"), 300)
    assert ledger.check_invariants() == []
    NON_CASH_UNITS["tokens_x"] = "token"
    try:
        assert ledger.check_invariants() == ["the entries posted in fen sum to -300, not zero",
                                             "the entries posted in token sum to 300, not zero"]
    finally:
        del NON_CASH_UNITS["tokens_x"]


def test_a_drained_ledger_is_still_checked_against_what_was_posted() -> None:
    ledger = _sold_and_rewarded()
    assert len(ledger.drain()) == 2
    assert ledger.check_invariants() == []  # the balances of drained transactions are not "without entries"
    ledger.post(2, "team_reward", ((EXPENSE, -20000), (("L", "available"), 20000)))
    assert ledger.check_invariants() == []
    ledger.balances[("L", "available")] -= 20000
    ledger.balances[("A", "available")] += 20000
    assert len(ledger.check_invariants()) == 1


def test_statements_read_the_transactions_of_one_owner_in_order() -> None:
    ledger = _sold_and_rewarded()
    ledger.post(2, "withdrawal", ((("A", "available"), -1000), (("A", "withdrawing"), 1000)))
    assert [t.id for t in ledger.for_owner("A")] == [2, 3]
    assert [t.id for t in ledger.for_owner("@platform")] == [1, 2]


def test_shop_accounts_are_owned_by_names_starting_with_at() -> None:
    assert is_member_account(("A", "available"))
    assert not is_member_account(SALES)


def test_engine_check_invariants_reports_a_tampered_member_balance() -> None:
    engine = new_engine(Shop(products=[Product("GIFT", 69900, gift_pack=True)], plans={"chain21": {}}))
    at = DEFAULT_START
    engine.apply(ev.Join(at=at, member="A"))
    engine.apply(ev.Pay(at=at, member="A", sku="GIFT", order="o1"))
    engine.apply(ev.Join(at=at, member="B", referrer="A"))
    engine.apply(ev.Pay(at=at, member="B", sku="GIFT", order="o2"))
    assert engine.check_invariants() == []
    engine.ledger.balances[("A", "available")] = 0
    assert engine.check_invariants() == ["balance of A/available is 0 but its entries sum to 10000"]
