"""A module is one file and one registry line: the test-only cashback plan (``tests/modules/cashback.py``, imported
by ``tests/conftest.py``) appears in ``liandong replay``, the engine's invariants and the statement with nothing else
changed; the registry refuses two modules that claim the same verb, rule, book, code or kind.
(The API half of the proof is ``tests/web/test_module_surface_api.py``.)"""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

import pytest
from typer.testing import CliRunner

from liandong import scenario as sc
from liandong.cli import app
from liandong.engine import events as ev
from liandong.engine.core import DEFAULT_START, Engine, Order, Product, Shop
from liandong.engine.events import Event, MemberId
from liandong.engine.labels import DeclarationError
from liandong.engine.ledger import LedgerError
from liandong.engine.module import Book, Module, Rule, Verb
from liandong.engine.registry import REGISTRY, Registry
from modules.cashback import Cashback

CASHBACK = Path(__file__).parent / "modules" / "cashback.yaml"


def test_the_cashback_module_replays_through_the_cli_as_its_expect_says() -> None:
    result = CliRunner().invoke(app, ["replay", str(CASHBACK)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok: Cashback")


def test_the_cashback_statement_reads_with_the_modules_own_words() -> None:
    result = CliRunner().invoke(app, ["replay", str(CASHBACK), "--statement", "A"])
    assert result.exit_code == 0, result.output
    lines = [line.split("  ", 1)[1] for line in result.output.splitlines() if "coupon" not in line]
    assert lines == [
        "+10.00 cashback → cashback · order o1 (your purchase)  [cashback 10.00]",
        "-6.00 cashback redeemed → cashback  [cashback 4.00]",
        "+6.00 cashback redeemed  [available 6.00]",
        "-4.00 cashback → cashback · order o1 (your purchase)  [cashback 0.00]",
        "-6.00 cashback · order o1 (your purchase)  [available 0.00]",
    ]
    zh = CliRunner().invoke(app, ["replay", str(CASHBACK), "--statement", "A", "--lang", "zh-Hans"])
    # A module outside the package has no entries in the project's catalogue: its own texts read in English (the
    # msgid), the core's words and a msgid the catalogue already holds ("your purchase", points') in Chinese.
    assert "+10.00 cashback → cashback · 订单 o1 (你的消费)  [cashback 10.00]" in zh.output
    assert "+6.00 cashback redeemed  [可用 6.00]" in zh.output


def test_the_cashback_refusal_is_its_own_code_with_its_message() -> None:
    state = sc.replay(sc.load(CASHBACK)).end_state()
    assert state["refused"] == [{"event": 4, "code": "cashback_insufficient", "field": "amount",
                                 "reason": "amount 5.00 is more than the cashback 4.00"}]


def test_the_engine_runs_the_cashback_invariants_and_they_can_fail() -> None:
    result = sc.replay(sc.load(CASHBACK), check_invariants=True)
    engine = result.engine
    assert engine.check_invariants() == []
    engine.ledger.balances[("A", "cashback")] = -100  # a broken module would leave this
    problems = engine.check_invariants()
    assert "A's cashback book holds -1.00, below zero" in problems


def test_the_registry_lists_the_module_with_its_verb_and_senders() -> None:
    assert REGISTRY.plans["cashback"] is Cashback
    assert REGISTRY.owner_of("redeem_cashback") == "cashback"
    assert REGISTRY.verb("redeem_cashback").senders == ("member",)


# --- duplicates are errors at start, not silent overwrites ------------------------------------------------------


class Copycat(Event):
    """An event whose verb another module serves already."""

    verb: ClassVar[str] = "transpose"
    primary: ClassVar[str] = "member"
    member: MemberId


def _module(kind: str, **declarations: object) -> type[Module]:
    return type(kind.title(), (Module,), {"kind": kind, **declarations})


def _fresh_registry() -> Registry:
    registry = Registry()
    registry.register(REGISTRY.plans["chain21"])
    return registry


def test_a_second_module_serving_a_verb_is_refused_at_start() -> None:
    verb = Verb(Copycat, lambda engine, event: None, lambda engine, event: None, senders=("operator",))
    with pytest.raises(DeclarationError, match="verb 'transpose' is served by both chain21 and copycat"):
        _fresh_registry().register(_module("copycat", verbs=(verb,)))


def test_a_second_module_declaring_a_rule_a_book_or_a_code_is_refused() -> None:
    with pytest.raises(DeclarationError, match="rule 'team_reward' is declared by both chain21 and thief"):
        _fresh_registry().register(_module("thief", rules=(Rule("team_reward", "x"),)))
    with pytest.raises(DeclarationError, match="book 'available' is declared by both core and thief2"):
        _fresh_registry().register(_module("thief2", books=(Book("available", "x"),)))
    with pytest.raises(ValueError, match="refusal code 'not_a_seed' is declared by both chain21 and thief3"):
        _fresh_registry().register(_module("thief3", codes={"not_a_seed": "x"}))


def test_a_kind_registered_twice_is_refused() -> None:
    with pytest.raises(DeclarationError, match="registered twice"):
        _fresh_registry().register(REGISTRY.plans["chain21"])


def test_the_core_does_not_know_the_modules() -> None:
    """The core's engine runs exactly the modules of the registry it is given."""
    engine = Engine(Shop(plans={"chain21": {}}), _fresh_registry())
    assert set(engine.modules) == {"chain21"}
    core = Path(__file__).parents[1] / "src" / "liandong" / "engine" / "core.py"
    imports = [line for line in core.read_text().splitlines() if line.lstrip().startswith(("from .", "import "))]
    assert not [line for line in imports if ".plans" in line or ".campaigns" in line], imports
    assert [line for line in imports if ".registry" in line] == ["    from .registry import Registry"]
    assert 'modules.get("' not in core.read_text() and 'modules["' not in core.read_text()


class Rogue(Module):
    """A plan that posts to a shop account it never declared."""

    kind = "rogue"

    def on_pay(self, engine: Engine, order: Order) -> None:
        engine.transfer("rogue_take", ("@platform", "reward_expense"), ("@nowhere", "pocket"), 100, plan="rogue")


def test_the_engine_rechecks_each_modules_postings_against_its_declarations() -> None:
    registry = Registry()
    registry.register(Rogue)
    engine = Engine(Shop(products=[Product("TEA", 5900)], plans={"rogue": {}}), registry)
    assert engine.apply(ev.Join(at=DEFAULT_START, member="A")).applied
    with pytest.raises(LedgerError, match=re.escape("rogue_take (rogue) posted to @nowhere/pocket: not an account")):
        engine.apply(ev.Pay(at=DEFAULT_START, member="A", sku="TEA", order="o1"))


def test_only_plans_and_modules_with_keys_of_their_own_are_configurable() -> None:
    """The blind box has shop-wide keys (its seed coupons); the group buy and the campaigns' lifecycle have none, so
    a shop's ``plans:`` cannot name them."""
    from liandong.engine.core import Shop
    from liandong.engine.module import ConfigError
    from liandong.engine.registry import REGISTRY, new_engine

    assert REGISTRY.configurable("blind_box") is not None and REGISTRY.configurable("chain21") is not None
    assert REGISTRY.configurable("group_buy") is None and REGISTRY.configurable("campaigns") is None
    new_engine(Shop(plans={"blind_box": {"seed_users": 0}}))
    with pytest.raises(ConfigError, match="unknown plan or campaign module"):
        new_engine(Shop(plans={"group_buy": {}}))
