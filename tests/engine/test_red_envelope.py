"""The red-envelope group: the starter's choices, private groups, the pick and the split, expiry, refunds."""

from __future__ import annotations

import datetime as dt
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
from liandong.engine.campaigns.groups import derive_group_secret
from liandong.engine.campaigns.red_envelope import RedEnvelope
from liandong.engine.core import Engine, Outcome, Product, Shop
from liandong.engine.draw import pick, split_equal, split_random
from liandong.engine.registry import REGISTRY

SECRET_ONE = "00" * 31 + "01"
SECRET_TWO = "00" * 31 + "02"
SCENARIOS = sorted((Path(__file__).parents[1] / "scenarios").glob("red-envelope-*.yaml"))


def new_engine(price: int = 9900, envelope: int | None = 1000, plans: dict[str, Any] | None = None) -> Engine:
    return Engine(Shop(products=[Product("MUG", price, red_envelope=envelope), Product("TEA", 5900)],
                       plans=plans or {}), REGISTRY)


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


def members(engine: Engine, *names: str) -> None:
    for name in names:
        act(engine, "join", name)


def campaign(engine: Engine, campaign_id: str = "re1", **params: Any) -> None:
    params.setdefault("sku", "MUG")
    params.setdefault("secret", SECRET_ONE)
    assert act(engine, "create_red_envelope", campaign_id, params=params).applied


def module(engine: Engine) -> RedEnvelope:
    found = engine.modules["red_envelope"]
    assert isinstance(found, RedEnvelope)
    return found


def fill(engine: Engine, group: str, names: list[str], winners: int, split: str = "random", **start: Any) -> None:
    code = start.get("invite_code")
    assert act(engine, "start_red_envelope", names[0], campaign="re1", group=group, size=len(names),
               winners=winners, split=split, **start).applied
    for name in names[1:]:
        assert act(engine, "join_red_envelope", name, group=group, invite_code=code).applied


def refusal_of(outcome: Outcome) -> tuple[str, str, Any]:
    assert outcome.refusal is not None, "the event was applied"
    return str(outcome.refusal.code), outcome.refusal.field, outcome.refusal.value


# --- the draw and the money ------------------------------------------------------------------------------------


def test_random_split_shares_are_the_draw_modules_and_land_in_available() -> None:
    engine = new_engine()
    members(engine, "A", "B", "C", "D")
    campaign(engine)
    fill(engine, "r1", ["A", "B", "C", "D"], winners=1)
    group_secret = derive_group_secret(SECRET_ONE, "re1/r1")
    assert pick(group_secret, "re1/r1", ["A", "B", "C", "D"], 1) == ["C"]
    shares = split_random(group_secret, "re1/r1/envelope", ["A", "B", "C", "D"], 1000)
    assert shares == [410, 213, 298, 79]
    assert [engine.balance(m) for m in "ABCD"] == shares
    assert engine.ledger.balance(("@platform", "sales")) == 9900
    assert engine.ledger.balance(escrow("re1")) == 0
    assert [d["operation"] for d in engine.draws] == ["pick", "split_random"]


def test_equal_split_gives_the_leftover_fen_to_the_earliest_entries() -> None:
    engine = new_engine()
    members(engine, "A", "B", "C")
    campaign(engine)
    fill(engine, "r1", ["A", "B", "C"], winners=2, split="equal")
    assert [engine.balance(m) for m in "ABC"] == split_equal(1000, 3) == [334, 333, 333]
    assert engine.draws[1]["result"] == ["3.34", "3.33", "3.33"]


def test_private_group_is_joined_with_its_code_and_refused_without_it() -> None:
    engine = new_engine()
    members(engine, "A", "B", "C")
    campaign(engine)
    act(engine, "start_red_envelope", "A", campaign="re1", group="r1", size=3, winners=1, visibility="private",
        invite_code="K7P2QX")
    assert refusal_of(act(engine, "join_red_envelope", "B", group="r1")) == ("not_allowed", "invite_code", None)
    assert refusal_of(act(engine, "join_red_envelope", "B", group="r1", invite_code="k7p2qx")) == (
        "not_allowed", "invite_code", "k7p2qx")
    assert act(engine, "join_red_envelope", "B", group="r1", invite_code="K7P2QX").applied
    view = sc.end_state(engine)["groups"]["r1"]
    assert (view["visibility"], view["members"], view["seats_left"]) == ("private", ["A", "B"], 1)


def test_the_same_secret_and_entries_give_the_same_winners_and_shares() -> None:
    def outcome(secret: str) -> tuple[list[Any], list[int]]:
        engine = new_engine()
        members(engine, *"ABCDE")
        campaign(engine, secret=secret)
        fill(engine, "r1", list("ABCDE"), winners=2)
        return [d["result"] for d in engine.draws], [engine.balance(m) for m in "ABCDE"]

    assert outcome(SECRET_ONE) == outcome(SECRET_ONE)
    assert outcome(SECRET_ONE) != outcome(SECRET_TWO)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), size=st.integers(2, 12), random_split=st.booleans(),
       secret=st.binary(min_size=32, max_size=32).map(bytes.hex), price=st.integers(1, 100000))
def test_any_group_splits_exactly_the_envelope_with_at_least_a_fen_each(
    data: st.DataObject, size: int, random_split: bool, secret: str, price: int,
) -> None:
    winners = data.draw(st.integers(1, size - 1), label="winners")
    envelope = data.draw(st.integers(size, 200000), label="envelope")
    engine = new_engine(price=price, envelope=envelope)
    names = [f"m{i}" for i in range(size)]
    members(engine, *names)
    campaign(engine, secret=secret)
    fill(engine, "r1", names, winners=winners, split="random" if random_split else "equal")
    shares = [engine.balance(m) for m in names]
    assert sum(shares) == envelope
    assert min(shares) >= 1
    assert engine.ledger.balance(("@platform", "sales")) == winners * price
    assert engine.ledger.balance(escrow("re1")) == 0
    assert sorted(module(engine).groups["r1"].winners) == sorted(
        pick(derive_group_secret(secret, "re1/r1"), "re1/r1", names, winners))


def test_plans_apply_true_runs_chain21_for_the_winner_only() -> None:
    engine = Engine(Shop(products=[Product("MUG", 69900, gift_pack=True, red_envelope=1000)],
                         plans={"chain21": {}}), REGISTRY)
    members(engine, "R")
    act(engine, "pay", "R", sku="MUG", order="r-gift")
    for name in ("X1", "X2", "X3"):
        act(engine, "join", name, referrer="R")
    campaign(engine, plans_apply=True)
    fill(engine, "r1", ["X1", "X2", "X3"], winners=1)
    assert engine.balance("R") == 10000        # one winner, one direct reward; the envelope shares are theirs
    assert engine.ledger.rewards_fen() == 10000


# --- expiry, closing, refunds ----------------------------------------------------------------------------------


def test_unfilled_group_expires_with_no_envelope() -> None:
    engine = new_engine()
    members(engine, "A", "B")
    campaign(engine, expire_hours=1)
    act(engine, "start_red_envelope", "A", campaign="re1", group="r1", size=3, winners=1)
    act(engine, "join_red_envelope", "B", group="r1")
    act(engine, "tick", at=engine.clock + dt.timedelta(hours=1))
    assert module(engine).groups["r1"].status == "expired"
    assert engine.balance("A") == engine.balance("B") == 0
    assert engine.ledger.balance(escrow("re1")) == 0
    assert engine.draws == []


def test_closing_dissolves_open_groups_and_publishes_the_secret() -> None:
    engine = new_engine()
    members(engine, "A")
    campaign(engine)
    act(engine, "start_red_envelope", "A", campaign="re1", group="r1", size=3, winners=1)
    act(engine, "close_red_envelope", "re1")
    state = sc.end_state(engine)
    assert state["groups"]["r1"]["status"] == "dissolved"
    assert state["campaigns"]["re1"]["escrow"] == "0.00"
    assert state["campaigns"]["re1"]["secret"] == SECRET_ONE


def test_refunding_a_winner_reverses_the_sale_and_keeps_the_envelope_shares() -> None:
    engine = new_engine()
    members(engine, "A", "B")
    campaign(engine)
    fill(engine, "r1", ["A", "B"], winners=1, split="equal")
    winner = module(engine).groups["r1"].winners[0]
    assert act(engine, "refund", f"r1-{winner}").applied
    assert engine.ledger.balance(("@platform", "sales")) == 0
    assert engine.balance("A") == engine.balance("B") == 500
    assert sc.end_state(engine)["groups"]["r1"]["outcomes"][winner] == "refunded"


def test_envelope_is_frozen_when_published() -> None:
    engine = new_engine()
    members(engine, "A", "B")
    campaign(engine)
    act(engine, "product", "MUG", price=9900, red_envelope=5000)
    fill(engine, "r1", ["A", "B"], winners=1, split="equal")
    assert engine.balance("A") + engine.balance("B") == 1000


# --- refusals --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("params", "expected"), [
    ({"sku": "MUG", "max_size": 1}, ("invalid", "params.max_size", 1)),
    ({"sku": "MUG", "expire_hours": 721}, ("invalid", "params.expire_hours", 721)),
    ({"sku": "MUG", "size": 3}, ("invalid", "params.size", 3)),
    ({"sku": "TEA"}, ("invalid", "params.sku", "TEA")),
    ({"sku": "NOPE"}, ("product_unknown", "params.sku", "NOPE")),
])
def test_invalid_parameters_are_refused_naming_the_key_and_value(
    params: dict[str, Any], expected: tuple[str, str, Any],
) -> None:
    engine = new_engine()
    assert refusal_of(act(engine, "create_red_envelope", "re1", params=params)) == expected
    assert module(engine).campaigns == {}


@pytest.mark.parametrize(("fields", "expected"), [
    ({"size": 1, "winners": 1}, ("invalid", "size", 1)),
    ({"size": 21, "winners": 1}, ("invalid", "size", 21)),
    ({"size": 3, "winners": 0}, ("invalid", "winners", 0)),
    ({"size": 3, "winners": 3}, ("invalid", "winners", 3)),
    ({"size": 3, "winners": 1, "visibility": "private"}, ("invalid", "invite_code", None)),
    ({"size": 3, "winners": 1, "visibility": "private", "invite_code": "abc"}, ("invalid", "invite_code", "abc")),
    ({"size": 3, "winners": 1, "invite_code": "ABCD"}, ("invalid", "invite_code", "ABCD")),
    ({"size": 3, "winners": 1, "campaign": "nope"}, ("not_found", "campaign", "nope")),
    ({"size": 3, "winners": 1, "group": "r0"}, ("exists", "group", "r0")),
    ({"size": 3, "winners": 1, "order": "r0-A"}, ("order_exists", "order", "r0-A")),
])
def test_start_refusals_name_the_field_and_value_and_change_nothing(
    fields: dict[str, Any], expected: tuple[str, str, Any],
) -> None:
    engine = new_engine()
    members(engine, "A")
    campaign(engine)
    act(engine, "start_red_envelope", "A", campaign="re1", group="r0", size=2, winners=1)
    fields.setdefault("campaign", "re1")
    fields.setdefault("group", "r1")
    count = engine.ledger.count
    assert refusal_of(act(engine, "start_red_envelope", "A", **fields)) == expected
    assert engine.ledger.count == count and "r1" not in module(engine).groups


def test_an_envelope_too_small_for_a_fen_each_is_refused_naming_the_size() -> None:
    engine = new_engine(envelope=2)
    members(engine, "A")
    campaign(engine)
    outcome = act(engine, "start_red_envelope", "A", campaign="re1", group="r1", size=3, winners=1)
    assert refusal_of(outcome) == ("insufficient", "size", 3)
    assert outcome.refusal is not None and "0.02" in outcome.refusal.reason


def test_publishing_a_draft_whose_product_lost_its_envelope_is_refused() -> None:
    engine = new_engine()
    act(engine, "create_red_envelope", "re1", params={"sku": "MUG"}, publish=False)
    act(engine, "product", "MUG", price=9900)
    assert refusal_of(act(engine, "publish_campaign", "re1")) == ("invalid", "params.sku", "MUG")


def test_a_group_buy_verb_cannot_close_a_red_envelope_campaign() -> None:
    engine = new_engine()
    campaign(engine)
    assert refusal_of(act(engine, "close_group_buy", "re1")) == ("not_allowed", "campaign", "re1")


# --- scenario files and verify-draw ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_scenario_file_holds_its_expectations_and_its_draws_verify(path: Path, tmp_path: Path) -> None:
    scenario = sc.load(path)
    state = sc.replay(scenario, check_invariants=True).end_state()
    assert sc.compare(scenario.expect, state) == []
    result = CliRunner().invoke(app, ["replay", str(path), "--json"])
    assert result.exit_code == 0, result.output
    out = tmp_path / "replay.json"
    out.write_text(result.stdout, encoding="utf-8")
    verified = CliRunner().invoke(app, ["verify-draw", str(out)])
    assert verified.exit_code == 0, verified.output
