"""The group-buy lottery: the draw, escrow, losers' refund and bonus, locked funds, expiry, refunds, refusals."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from liandong import scenario as sc
from liandong.cli import app
from liandong.engine import events as ev
from liandong.engine.campaigns.base import escrow
from liandong.engine.campaigns.group_buy import GroupBuy
from liandong.engine.campaigns.groups import derive_group_secret
from liandong.engine.core import Engine, Outcome, Product, Shop
from liandong.engine.draw import commitment, pick
from liandong.engine.registry import REGISTRY

SECRET_ONE = "00" * 31 + "01"
SECRET_TWO = "00" * 31 + "02"
SCENARIOS = sorted((Path(__file__).parents[1] / "scenarios").glob("group-buy-*.yaml"))


#: chain21 with every fixed reward within TEA's 99.00 (a reward above a gift pack's price is refused).
CHAIN21_WITHIN_99: dict[str, Any] = {"direct_reward": {"agent": "60.00", "partner": "90.00"}, "team_reward": "90.00",
                                     "self_rebate": {"agent": "60.00", "partner": "90.00"}}


def new_engine(plans: dict[str, dict[str, Any]] | None = None, gift_pack: bool = False) -> Engine:
    return Engine(Shop(products=[Product("TEA", 9900, gift_pack=gift_pack)], plans=plans or {}), REGISTRY)


def act(engine: Engine, verb: str, value: Any = None, **fields: Any) -> Outcome:
    """Apply one event one second after the clock (or at ``at``); fails the test if an invariant breaks."""
    cls = ev.EVENT_TYPES[verb]
    if value is not None:
        fields[cls.primary] = value
    at = fields.pop("at", engine.clock + dt.timedelta(seconds=1))
    if cls.creates_draw:  # the caller brings a draw's secret (the service logs one); the test's own wins
        fields["params"] = {"secret": "ab" * 32, **(fields.get("params") or {})}
    outcome = engine.apply(cls(at=at, **fields))
    assert engine.check_invariants() == []
    return outcome


def members(engine: Engine, *names: str, referrer: str | None = None) -> None:
    for name in names:
        act(engine, "join", name, referrer=referrer)


def lottery(engine: Engine, campaign: str = "gb1", **params: Any) -> None:
    params.setdefault("sku", "TEA")
    params.setdefault("secret", SECRET_ONE)
    assert act(engine, "create_group_buy", campaign, params=params).applied


def fill(engine: Engine, campaign: str, group: str, names: list[str]) -> None:
    assert act(engine, "start_group_buy", names[0], campaign=campaign, group=group).applied
    for name in names[1:]:
        assert act(engine, "join_group_buy", name, group=group).applied


def module(engine: Engine) -> GroupBuy:
    found = engine.modules["group_buy"]
    assert isinstance(found, GroupBuy)
    return found


def refusal_of(outcome: Outcome) -> tuple[str, str, Any]:
    assert outcome.refusal is not None, "the event was applied"
    return str(outcome.refusal.code), outcome.refusal.field, outcome.refusal.value


# --- the draw and the money -------------------------------------------------------------------------------------


def test_full_group_is_drawn_winners_buy_losers_get_payment_back_and_ten_yuan() -> None:
    engine = new_engine()
    members(engine, "A", "B", "C", "D", "E")
    lottery(engine)
    fill(engine, "gb1", "g1", ["A", "B", "C", "D", "E"])
    group_secret = derive_group_secret(SECRET_ONE, "gb1/g1")
    assert pick(group_secret, "gb1/g1", ["A", "B", "C", "D", "E"], 2) == ["D", "A"]
    assert module(engine).groups["g1"].winners == ["D", "A"]
    assert engine.ledger.balance(("@platform", "sales")) == 2 * 9900
    assert engine.ledger.balance(escrow("gb1")) == 0
    assert engine.ledger.balance(("@external", "payments")) == -2 * 9900  # 5 paid, 3 paid back
    for loser in ("B", "C", "E"):
        assert engine.balance(loser) == 1000
        assert engine.balance(loser, "locked_fund") == 0
    for winner in ("A", "D"):
        assert engine.balance(winner) == 0
        assert engine.member_view(winner)["locked_fund"] == "99.00"


def test_group_page_shows_members_seats_left_deadline_and_commitment_before_the_secret() -> None:
    engine = new_engine()
    members(engine, "A", "B")
    lottery(engine)
    act(engine, "start_group_buy", "A", campaign="gb1", group="g1", at=dt.datetime(2026, 1, 1, 9, 0, tzinfo=engine.tz))
    act(engine, "join_group_buy", "B", group="g1")
    view = sc.end_state(engine)["groups"]["g1"]
    group_secret = derive_group_secret(SECRET_ONE, "gb1/g1")
    assert view["members"] == ["A", "B"]
    assert view["seats_left"] == 3
    assert view["deadline"] == "2026-01-02T09:00:00+08:00"
    assert view["commitment"] == commitment(group_secret)
    assert view["secret"] is None
    assert sc.end_state(engine)["campaigns"]["gb1"]["escrow"] == "198.00"


def test_the_draw_record_is_published_with_the_group_secret_and_verifies() -> None:
    engine = new_engine()
    members(engine, "A", "B", "C", "D", "E")
    lottery(engine)
    fill(engine, "gb1", "g1", ["A", "B", "C", "D", "E"])
    group_secret = derive_group_secret(SECRET_ONE, "gb1/g1")
    assert engine.draws == [{
        "campaign": "gb1/g1", "operation": "pick", "k": 2, "entries": ["A", "B", "C", "D", "E"],
        "commitment": commitment(group_secret), "secret": group_secret, "result": ["D", "A"],
    }]
    assert group_secret == "28e1802a22b6f776b27e8eaee0952c443c8c4cb60cf2c4c0e8619c77e2aea037"


def test_the_campaign_secret_is_published_at_close_and_derives_every_group_secret() -> None:
    engine = new_engine()
    members(engine, "A", "B", "C", "D", "E")
    lottery(engine)
    fill(engine, "gb1", "g1", ["A", "B", "C", "D", "E"])
    assert sc.end_state(engine)["campaigns"]["gb1"]["secret"] is None
    act(engine, "close_group_buy", "gb1")
    published = sc.end_state(engine)["campaigns"]["gb1"]
    assert hashlib.sha256(bytes.fromhex(published["secret"])).hexdigest() == published["commitment"]
    assert engine.draws[0]["secret"] == derive_group_secret(published["secret"], "gb1/g1")


def test_the_same_secret_and_entries_give_the_same_winners_and_another_secret_may_not() -> None:
    def winners(secret: str) -> list[list[str]]:
        engine = new_engine()
        members(engine, *"ABCDEFGHIJ")
        lottery(engine, secret=secret)
        fill(engine, "gb1", "g1", list("ABCDE"))
        fill(engine, "gb1", "g2", list("FGHIJ"))
        return [module(engine).groups[g].winners for g in ("g1", "g2")]

    expected = [pick(derive_group_secret(SECRET_ONE, f"gb1/{g}"), f"gb1/{g}", entries, 2)
                for g, entries in (("g1", list("ABCDE")), ("g2", list("FGHIJ")))]
    assert expected == [["D", "A"], ["H", "I"]]
    assert winners(SECRET_ONE) == winners(SECRET_ONE) == expected
    assert winners(SECRET_TWO) != winners(SECRET_ONE)


def test_campaign_purchase_without_plans_apply_pays_no_chain21_reward() -> None:
    engine = new_engine({"chain21": CHAIN21_WITHIN_99}, gift_pack=True)
    members(engine, "R")
    act(engine, "pay", "R", sku="TEA", order="r-gift")
    members(engine, "X1", "X2", referrer="R")
    lottery(engine, group_size=2, winners=1)
    fill(engine, "gb1", "g1", ["X1", "X2"])
    assert engine.balance("R") == 0
    assert engine.ledger.rewards_fen() == 0


def test_plans_apply_winner_pays_chain21_reward_and_its_refund_takes_it_back() -> None:
    engine = new_engine({"chain21": CHAIN21_WITHIN_99}, gift_pack=True)
    members(engine, "R")
    act(engine, "pay", "R", sku="TEA", order="r-gift")
    members(engine, "X1", "X2", referrer="R")
    lottery(engine, group_size=2, winners=1, plans_apply=True)
    fill(engine, "gb1", "g1", ["X1", "X2"])
    winner = module(engine).groups["g1"].winners[0]
    assert winner == "X2"
    assert engine.balance("R") == 6000  # the agent's direct reward
    assert engine.member_view("X2")["rank"] == "agent"
    assert engine.member_view("X1")["rank"] == "member"  # a losing seat is never a purchase
    assert act(engine, "refund", "g1-X2").applied
    assert engine.balance("R") == 0
    assert engine.member_view("X2")["rank"] == "member"
    assert engine.ledger.balance(("@platform", "sales")) == 9900  # R's own gift pack only


# --- locked funds ----------------------------------------------------------------------------------------------


def test_fund_unlocks_a_tenth_when_its_owner_joins_and_a_twentieth_when_an_invitee_joins() -> None:
    engine = new_engine()
    members(engine, "A", "B", "C")
    lottery(engine, group_size=3, winners=1)
    fill(engine, "gb1", "g1", ["A", "B", "C"])
    assert module(engine).groups["g1"].winners == ["C"]
    members(engine, "D", "E", referrer="C")
    members(engine, "F", "G", "H")
    fill(engine, "gb1", "g2", ["C", "F", "G"])      # C joins another group: +9.90
    assert module(engine).funds["g1-C"].unlocked == 990
    fill(engine, "gb1", "g3", ["D", "H", "B"])      # D, invited by C, joins: +4.95
    fund = module(engine).funds["g1-C"]
    assert (fund.unlocked, fund.remaining) == (990 + 495, 9900 - 1485)
    assert [s["why"] for s in fund.steps] == ["join", "invite"]


def test_joins_in_a_group_that_dissolves_unlock_nothing() -> None:
    engine = new_engine()
    members(engine, "A", "B", "C")
    lottery(engine, group_size=3, winners=1)
    fill(engine, "gb1", "g1", ["A", "B", "C"])
    act(engine, "start_group_buy", "C", campaign="gb1", group="g2")
    act(engine, "tick", at=engine.clock + dt.timedelta(hours=24))
    assert module(engine).groups["g2"].status == "expired"
    assert module(engine).funds["g1-C"].unlocked == 0
    assert engine.balance("C", "locked_fund") == 9900


def test_locked_fund_never_unlocks_past_its_original_amount() -> None:
    engine = new_engine()
    members(engine, *"ABCDEFGHIJKLMN")
    lottery(engine, group_size=2, winners=1, unlock_on_join="0.40")
    fill(engine, "gb1", "g1", ["A", "B"])
    owner = module(engine).groups["g1"].winners[0]
    others = [m for m in "CDEFGHIJKLMN"]
    for n in range(5):
        fill(engine, "gb1", f"g{n + 2}", [owner, others[n]])
    fund = module(engine).funds[f"g1-{owner}"]
    assert [s["amount"] for s in fund.steps] == ["39.60", "39.60", "19.80"]
    assert fund.unlocked == fund.original == 9900
    assert fund.status == "unlocked"
    assert sc.end_state(engine)["locked_funds"][fund.id]["unlocks_on_join"] == "0.00"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    join_rate=st.integers(0, 100), invite_rate=st.integers(0, 100), price=st.integers(1, 99999),
    rounds=st.lists(st.tuples(st.booleans(), st.booleans()), max_size=14),
)
def test_any_sequence_of_unlocks_stays_within_the_original_fund(
    join_rate: int, invite_rate: int, price: int, rounds: list[tuple[bool, bool]],
) -> None:
    engine = Engine(Shop(products=[Product("TEA", price)]), REGISTRY)
    members(engine, "W", "L")
    act(engine, "join", "VW", referrer="W")
    act(engine, "join", "VL", referrer="L")
    lottery(engine, group_size=2, winners=1, unlock_on_join=rate_text(join_rate),
            unlock_on_invite=rate_text(invite_rate))
    fill(engine, "gb1", "g0", ["W", "L"])
    owner = module(engine).groups["g0"].winners[0]
    invitee = "VW" if owner == "W" else "VL"
    for n, (owner_joins, invitee_joins) in enumerate(rounds):
        seats = ([owner] if owner_joins else []) + ([invitee] if invitee_joins else [])
        while len(seats) < 2:
            seats.append(f"x{n}-{len(seats)}")
            members(engine, seats[-1])
        fill(engine, "gb1", f"g{n + 1}", seats)
    fund = module(engine).funds[f"g0-{owner}"]
    step_join, step_invite = price * join_rate // 100, price * invite_rate // 100
    wanted = sum(step_join * o + step_invite * i for o, i in rounds)
    assert fund.unlocked == min(wanted, fund.original)
    for any_fund in module(engine).funds.values():
        assert 0 <= any_fund.unlocked <= any_fund.original


def rate_text(percent: int) -> str:
    return "1" if percent == 100 else f"0.{percent:02d}"


# --- expiry, leaving, closing ----------------------------------------------------------------------------------


def test_group_is_open_until_its_deadline_and_dissolves_at_it_with_no_event_from_its_members() -> None:
    engine = new_engine()
    members(engine, "A", "B", "Z")
    lottery(engine, expire_hours=2)
    start = dt.datetime(2026, 1, 1, 9, 0, tzinfo=engine.tz)
    act(engine, "start_group_buy", "A", campaign="gb1", group="g1", at=start)
    act(engine, "join_group_buy", "B", group="g1")
    act(engine, "tick", at=start + dt.timedelta(hours=2, seconds=-1))
    assert module(engine).groups["g1"].status == "open"
    assert engine.ledger.balance(escrow("gb1")) == 2 * 9900
    act(engine, "join", "Y", at=start + dt.timedelta(hours=2))   # anyone's event moves the clock
    assert module(engine).groups["g1"].status == "expired"
    assert engine.ledger.balance(escrow("gb1")) == 0
    assert engine.balance("A") == engine.balance("B") == 0    # paid back, no bonus
    assert refusal_of(act(engine, "join_group_buy", "Z", group="g1")) == ("closed", "group", "g1")


def test_close_day_moves_the_clock_past_deadlines() -> None:
    engine = new_engine()
    members(engine, "A")
    lottery(engine)
    act(engine, "start_group_buy", "A", campaign="gb1", group="g1")
    act(engine, "close_day", "2026-01-02")
    assert module(engine).groups["g1"].status == "expired"


def test_escrow_is_zero_after_close_with_groups_drawn_open_and_left() -> None:
    engine = new_engine()
    members(engine, *"ABCDEFG")
    lottery(engine, group_size=3, winners=1)
    fill(engine, "gb1", "g1", ["A", "B", "C"])
    act(engine, "start_group_buy", "D", campaign="gb1", group="g2")
    act(engine, "join_group_buy", "E", group="g2")
    act(engine, "start_group_buy", "F", campaign="gb1", group="g3")
    act(engine, "leave_group", "F", group="g3")
    assert engine.ledger.balance(escrow("gb1")) == 2 * 9900
    act(engine, "close_group_buy", "gb1")
    assert engine.ledger.balance(escrow("gb1")) == 0
    statuses = {g: module(engine).groups[g].status for g in ("g1", "g2", "g3")}
    assert statuses == {"g1": "drawn", "g2": "dissolved", "g3": "dissolved"}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(["start", "join", "leave", "wait"]), st.integers(0, 5)), max_size=30))
def test_any_history_leaves_a_closed_campaign_with_zero_escrow(steps: list[tuple[str, int]]) -> None:
    engine = new_engine()
    names = [f"m{i}" for i in range(6)]
    members(engine, *names)
    lottery(engine, group_size=3, winners=1, expire_hours=1)
    groups: list[str] = []
    for n, (what, who) in enumerate(steps):
        name = names[who]
        if what == "start":
            groups.append(f"g{n}")
            act(engine, "start_group_buy", name, campaign="gb1", group=f"g{n}")
        elif what == "join" and groups:
            act(engine, "join_group_buy", name, group=groups[who % len(groups)])
        elif what == "leave" and groups:
            act(engine, "leave_group", name, group=groups[who % len(groups)])
        else:
            act(engine, "tick", at=engine.clock + dt.timedelta(minutes=20))
    act(engine, "close_group_buy", "gb1")
    assert engine.ledger.balance(escrow("gb1")) == 0
    assert engine.check_invariants() == []


# --- refunds ---------------------------------------------------------------------------------------------------


def test_refunding_a_winner_reverses_the_sale_and_takes_back_what_is_left_of_the_fund() -> None:
    engine = new_engine()
    members(engine, *"ABCDE")
    lottery(engine, group_size=3, winners=1)
    fill(engine, "gb1", "g1", ["A", "B", "C"])
    fill(engine, "gb1", "g2", ["C", "D", "E"])         # C's fund unlocks 9.90
    assert act(engine, "refund", "g1-C").applied
    assert refusal_of(act(engine, "refund", "g1-C")) == ("order_refunded", "order", "g1-C")
    fund = module(engine).funds["g1-C"]
    assert (fund.status, fund.unlocked, fund.taken_back, fund.remaining) == ("revoked", 990, 8910, 0)
    assert engine.balance("C", "locked_fund") == 0
    assert engine.balance("C") == 990 + 1000            # the unlocked part and g2's consolation stay
    assert engine.orders["g1-C"].refunded
    assert module(engine).groups["g1"].entry_of("C").outcome == "refunded"  # type: ignore[union-attr]


def test_leaving_an_open_group_returns_the_payment_and_frees_the_seat() -> None:
    engine = new_engine()
    members(engine, "A", "B", "C")
    lottery(engine, group_size=3, winners=1)
    act(engine, "start_group_buy", "A", campaign="gb1", group="g1")
    act(engine, "join_group_buy", "B", group="g1")
    assert act(engine, "leave_group", "B", group="g1").applied
    group = module(engine).groups["g1"]
    assert ([e.member for e in group.entries], group.seats_left) == (["A"], 2)
    assert engine.ledger.balance(escrow("gb1")) == 9900
    assert act(engine, "join_group_buy", "B", group="g1", order="b-again").applied


# --- refusals (each names the field and the value, and changes nothing) ----------------------------------------


@pytest.mark.parametrize(("params", "expected"), [
    ({"sku": "TEA", "bogus": 1}, ("invalid", "params.bogus", 1)),
    ({"sku": "TEA", "group_size": 1}, ("invalid", "params.group_size", 1)),
    ({"sku": "TEA", "group_size": 101}, ("invalid", "params.group_size", 101)),
    ({"sku": "TEA", "group_size": 5, "winners": 5}, ("invalid", "params.winners", 5)),
    ({"sku": "TEA", "winners": 0}, ("invalid", "params.winners", 0)),
    ({"sku": "TEA", "loser_bonus": "-1.00"}, ("invalid", "params.loser_bonus", "-1.00")),
    ({"sku": "TEA", "loser_bonus": 1.5}, ("invalid", "params.loser_bonus", 1.5)),
    ({"sku": "TEA", "winner_fund": "half"}, ("invalid", "params.winner_fund", "half")),
    ({"sku": "TEA", "unlock_on_join": "1.50"}, ("invalid", "params.unlock_on_join", "1.50")),
    ({"sku": "TEA", "unlock_on_invite": "-0.05"}, ("invalid", "params.unlock_on_invite", "-0.05")),
    ({"sku": "TEA", "expire_hours": 0}, ("invalid", "params.expire_hours", 0)),
    ({"sku": "TEA", "secret": "xyz"}, ("invalid", "params.secret", "xyz")),
    ({}, ("invalid", "params.sku", None)),
    ({"sku": "NOPE"}, ("product_unknown", "params.sku", "NOPE")),
])
def test_invalid_parameters_are_refused_naming_the_key_and_value(
    params: dict[str, Any], expected: tuple[str, str, Any],
) -> None:
    engine = new_engine()
    before = engine.ledger.count
    assert refusal_of(act(engine, "create_group_buy", "gb1", params=params)) == expected
    assert module(engine).campaigns == {} and engine.ledger.count == before


def test_winner_fund_may_be_a_fixed_amount() -> None:
    engine = new_engine()
    members(engine, "A", "B")
    lottery(engine, group_size=2, winners=1, winner_fund="50.00")
    fill(engine, "gb1", "g1", ["A", "B"])
    winner = module(engine).groups["g1"].winners[0]
    assert engine.balance(winner, "locked_fund") == 5000


def refusing_engine() -> Engine:
    """A, B, C members; gb1 open with a drawn g1 (A, B) and an open g2 (C); draft gb2; closed gb3."""
    engine = Engine(Shop(products=[Product("TEA", 9900), Product("MUG", 9900, red_envelope=1000)]), REGISTRY)
    members(engine, "A", "B", "C")
    lottery(engine, group_size=2, winners=1)
    fill(engine, "gb1", "g1", ["A", "B"])
    act(engine, "start_group_buy", "C", campaign="gb1", group="g2")
    act(engine, "create_group_buy", "gb2", params={"sku": "TEA"}, publish=False)
    lottery(engine, "gb3")
    act(engine, "close_group_buy", "gb3")
    act(engine, "create_red_envelope", "re1", params={"sku": "MUG"})
    act(engine, "start_red_envelope", "A", campaign="re1", group="r1", size=2, winners=1)
    return engine


@pytest.mark.parametrize(("verb", "value", "fields", "expected"), [
    ("create_group_buy", "gb1", {"params": {"sku": "TEA"}}, ("exists", "campaign", "gb1")),
    ("start_group_buy", "A", {"campaign": "nope", "group": "g9"}, ("not_found", "campaign", "nope")),
    ("start_group_buy", "A", {"campaign": "gb2", "group": "g9"}, ("not_allowed", "campaign", "gb2")),
    ("start_group_buy", "A", {"campaign": "gb3", "group": "g9"}, ("closed", "campaign", "gb3")),
    ("start_group_buy", "A", {"campaign": "re1", "group": "g9"}, ("not_allowed", "campaign", "re1")),
    ("start_group_buy", "A", {"campaign": "gb1", "group": "g1"}, ("exists", "group", "g1")),
    ("start_group_buy", "A", {"campaign": "gb1", "group": "r1"}, ("exists", "group", "r1")),
    ("start_group_buy", "Q", {"campaign": "gb1", "group": "g9"}, ("member_unknown", "member", "Q")),
    ("start_group_buy", "A", {"campaign": "gb1", "group": "g9", "order": "g2-C"}, ("order_exists", "order", "g2-C")),
    ("start_group_buy", "A", {"campaign": "gb1", "group": "g9", "order": "g1-A"}, ("order_exists", "order", "g1-A")),
    ("join_group_buy", "A", {"group": "g9"}, ("not_found", "group", "g9")),
    ("join_group_buy", "A", {"group": "g1"}, ("closed", "group", "g1")),
    ("join_group_buy", "C", {"group": "g2"}, ("not_allowed", "member", "C")),
    ("join_group_buy", "B", {"group": "r1"}, ("not_allowed", "group", "r1")),
    ("join_group_buy", "Q", {"group": "g2"}, ("member_unknown", "member", "Q")),
    ("leave_group", "A", {"group": "g9"}, ("not_found", "group", "g9")),
    ("leave_group", "A", {"group": "g1"}, ("closed", "group", "g1")),
    ("leave_group", "A", {"group": "g2"}, ("not_allowed", "member", "A")),
    ("close_group_buy", "nope", {}, ("not_found", "campaign", "nope")),
    ("close_group_buy", "gb2", {}, ("not_allowed", "campaign", "gb2")),
    ("close_group_buy", "gb3", {}, ("closed", "campaign", "gb3")),
    ("update_campaign", "gb1", {"params": {"winners": 1}}, ("frozen", "campaign", "gb1")),
    ("pay", "A", {"sku": "TEA", "order": "g2-C"}, ("order_exists", "order", "g2-C")),
    ("refund", "g1-A", {}, ("order_unknown", "order", "g1-A")),   # A lost g1: no order, paid back at the draw
])
def test_refusals_name_the_field_and_value_and_change_nothing(
    verb: str, value: str, fields: dict[str, Any], expected: tuple[str, str, Any],
) -> None:
    engine = refusing_engine()
    assert module(engine).groups["g1"].winners == ["B"]
    before = (engine.ledger.count, json.dumps(sc.end_state(engine), sort_keys=True))
    outcome = act(engine, verb, value, **fields)
    assert refusal_of(outcome) == expected
    after = sc.end_state(engine)
    after["refused"] = after["refused"][:-1]
    assert (engine.ledger.count, json.dumps(after, sort_keys=True)) == before


def test_publishing_a_draft_whose_product_was_withdrawn_is_refused() -> None:
    engine = new_engine()
    act(engine, "create_group_buy", "gb1", params={"sku": "TEA"}, publish=False)
    act(engine, "product", "TEA", price=9900, active=False)
    assert refusal_of(act(engine, "publish_campaign", "gb1")) == ("product_unknown", "params.sku", "TEA")


def test_a_draft_can_change_then_publishing_freezes_params_and_price() -> None:
    engine = new_engine()
    members(engine, "A")
    act(engine, "create_group_buy", "gb1", params={"sku": "TEA"}, publish=False)
    assert act(engine, "update_campaign", "gb1", params={"group_size": 3, "winners": 1}).applied
    assert act(engine, "publish_campaign", "gb1").applied
    act(engine, "product", "TEA", price=12000)
    act(engine, "start_group_buy", "A", campaign="gb1", group="g1")
    view = sc.end_state(engine)
    assert view["campaigns"]["gb1"]["price"] == "99.00"
    assert view["groups"]["g1"]["price"] == "99.00"
    assert view["campaigns"]["gb1"]["params"]["group_size"] == 3


# --- statements, scenario files, verify-draw --------------------------------------------------------------------


def test_statement_names_the_consolation_and_its_group() -> None:
    engine = new_engine()
    members(engine, *"ABCDE")
    lottery(engine)
    fill(engine, "gb1", "g3", list("ABCDE"))
    loser = next(m for m in "ABCDE" if m not in module(engine).groups["g3"].winners)
    lines = [line for line in sc.statement_lines(engine, loser) if "group-buy" in line]
    assert len(lines) == 1
    assert lines[0].endswith("+10.00 group-buy consolation · group g3 (not drawn)  [available 10.00]")


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_scenario_file_holds_its_expectations_and_its_draws_verify(path: Path, tmp_path: Path) -> None:
    scenario = sc.load(path)
    state = sc.replay(scenario, check_invariants=True).end_state()
    assert sc.compare(scenario.expect, state) == []
    out = tmp_path / "replay.json"
    result = CliRunner().invoke(app, ["replay", str(path), "--json"])
    assert result.exit_code == 0, result.output
    out.write_text(result.stdout, encoding="utf-8")
    verified = CliRunner().invoke(app, ["verify-draw", str(out)])
    assert verified.exit_code == 0, verified.output
