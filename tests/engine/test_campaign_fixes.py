"""Campaign fixes: seed coupons at join, a paid draft's frozen terms, times in the shop's zone, equal-split records
without a secret, and draw secrets as inputs (the engine makes none)."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from liandong import scenario as sc
from liandong.cli import app
from liandong.engine import draw
from liandong.engine.campaigns.base import CampaignModule
from liandong.engine.core import Engine, Outcome, Product, Shop
from liandong.engine.draw import DrawRecord, verify_draw_file, verify_record
from liandong.engine.events import EVENT_TYPES
from liandong.engine.plans.chain21 import Chain21
from liandong.engine.registry import REGISTRY

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
START = dt.datetime.fromisoformat("2026-01-01T08:00:00+08:00")
SECRET = "00" * 31 + "01"
UTC_TIME = re.compile(r'"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\+00:00"')


def make_engine(plans: dict[str, dict[str, Any]] | None = None) -> Engine:
    products = [Product("BOX", 9900), Product("TEA", 9900), Product("MUG", 9900, red_envelope=1000),
                Product("PACK", 89900, gift_pack=True)]
    return Engine(Shop(products=products, plans=plans or {}, start=START), REGISTRY)


def act(engine: Engine, verb: str, at: dt.datetime | None = None, **fields: Any) -> Outcome:
    return engine.apply(EVENT_TYPES[verb](at=at or engine.clock + dt.timedelta(seconds=1), **fields))


# --- 1. seed coupons at join ----------------------------------------------------------------------------------


def test_a_start_refused_for_coupons_names_what_the_end_state_shows() -> None:
    engine = make_engine()
    act(engine, "join", member="A", birth_date=dt.date(1990, 1, 1))
    outcome = act(engine, "start_blind_box", member="A", campaign="b1", order="bs1",
                  params={"prize_sku": "BOX", "start_coupons": 101, "secret": SECRET})
    assert outcome.refusal is not None and outcome.refusal.value == 100  # "A holds 100 coupons"
    assert engine.member_view("A")["coupons"] == 100  # and the end state says the same: 100, in the ledger
    assert engine.ledger.count == 1  # the one coupon_seed transfer of A's join


# --- 2. a paid draft's terms are frozen ---------------------------------------------------------------------


def test_a_draft_box_set_cannot_change_its_paid_terms_but_can_be_published() -> None:
    engine = make_engine()
    act(engine, "join", member="A", birth_date=dt.date(1990, 1, 1))
    assert act(engine, "start_blind_box", member="A", campaign="d1", order="bs1", publish=False,
               params={"prize_sku": "BOX", "secret": SECRET}).applied
    refusal = act(engine, "update_campaign", campaign="d1", params={"open_price": "1.00"}).refusal
    assert refusal is not None and (str(refusal.code), refusal.field, refusal.value) == ("frozen", "campaign", "d1")
    assert "paid" in refusal.reason
    assert act(engine, "publish_campaign", campaign="d1").applied


def test_a_draft_group_buy_with_no_money_in_it_can_still_change() -> None:
    engine = make_engine()
    assert act(engine, "create_group_buy", campaign="gb1", publish=False,
               params={"sku": "TEA", "secret": SECRET}).applied
    assert act(engine, "update_campaign", campaign="gb1", params={"group_size": 3}).applied


# --- 3. times in the shop's zone ----------------------------------------------------------------------------


def in_shanghai(match: re.Match[str]) -> str:
    """A UTC time of the file as the same instant in +08:00: "2026-01-01T01:00:00+00:00" -> "…T09:00:00+08:00"."""
    instant = dt.datetime.fromisoformat(match.group(1) + "+00:00")
    return '"' + instant.astimezone(dt.timezone(dt.timedelta(hours=8))).isoformat() + '"'


def test_the_same_instants_in_utc_or_in_shanghai_time_give_the_same_end_state_json(tmp_path: Path) -> None:
    utc = SCENARIOS / "times-in-the-shop-zone.yaml"
    text = utc.read_text(encoding="utf-8")
    shanghai = tmp_path / "times-in-shanghai.yaml"
    shanghai.write_text(UTC_TIME.sub(in_shanghai, text), encoding="utf-8")
    assert "+00:00\"" in text and "+00:00\"" not in shanghai.read_text(encoding="utf-8")
    ends = [json.dumps(sc.replay(sc.load(path)).end_state(), sort_keys=True) for path in (utc, shanghai)]
    assert ends[0] == ends[1]
    times = re.findall(r'"\d{4}-\d\d-\d\dT[^"]*"', ends[0])
    assert len(times) >= 13 and all(t.endswith('+08:00"') for t in times)  # group views repeat some


def test_a_promotion_time_is_in_the_shop_zone_for_an_at_in_utc() -> None:
    engine = make_engine({"chain21": {}})
    utc = dt.datetime(2026, 1, 1, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai
    for member, referrer in (("A", None), ("A1", "A"), ("A2", "A")):
        act(engine, "join", at=utc, member=member, referrer=referrer)
        act(engine, "pay", at=utc, member=member, sku="PACK", order=f"o-{member}")
    plan = engine.modules["chain21"]
    assert isinstance(plan, Chain21)
    assert plan.progress(engine, "A")["promoted_at"] == "2026-01-01T09:00:00+08:00"  # A2's pack made A a partner


# --- 4. an equal split's record needs no secret -------------------------------------------------------------


def write(tmp_path: Path, records: object) -> Path:
    path = tmp_path / "draws.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    return path


EQUAL = {"campaign": "r1/g1/envelope", "operation": "split_equal", "amount": "10.00", "entries": ["a", "b", "c"],
         "result": ["3.34", "3.33", "3.33"]}  # floor(1000 / 3) = 333 each, the 1 fen left to the earliest entry


def test_an_equal_split_record_without_commitment_and_secret_is_verified_by_recomputing(tmp_path: Path) -> None:
    assert verify_draw_file(write(tmp_path, EQUAL)) == (0, "1 record verified")
    code, message = verify_draw_file(write(tmp_path, {**EQUAL, "result": ["3.33", "3.34", "3.33"]}))
    assert code == 1 and "result" in message  # the leftover fen goes to the earliest entry, not the second


def test_an_equal_split_record_with_a_secret_still_checks_its_commitment(tmp_path: Path) -> None:
    good = {**EQUAL, "commitment": draw.commitment(SECRET), "secret": SECRET}
    assert verify_draw_file(write(tmp_path, good))[0] == 0
    code, message = verify_draw_file(write(tmp_path, {**good, "commitment": "ab" * 32}))
    assert code == 1 and "commitment" in message
    code, message = verify_draw_file(write(tmp_path, {**EQUAL, "secret": SECRET}))  # a secret with no commitment
    assert code == 1 and "commitment" in message


def test_only_an_equal_split_may_omit_the_secret(tmp_path: Path) -> None:
    random_split = {**EQUAL, "operation": "split_random"}
    code, message = verify_draw_file(write(tmp_path, random_split))
    assert code == 2 and "commitment" in message  # malformed: a random split needs its commitment and secret
    assert verify_record(DrawRecord.from_json(EQUAL)) == []


# --- 5. draw secrets are inputs -----------------------------------------------------------------------------


CREATING = [
    ("create_group_buy", {"campaign": "gb1", "params": {"sku": "TEA"}}),
    ("create_presale", {"campaign": "p1", "params": {"sku": "TEA", "deadline": "2026-02-01T20:00:00+08:00"}}),
    ("create_red_envelope", {"campaign": "re1", "params": {"sku": "MUG"}}),
    ("start_blind_box", {"member": "A", "campaign": "b1", "order": "bs1", "params": {"prize_sku": "BOX"}}),
]


def test_the_events_that_create_a_draw_are_exactly_the_four_that_declare_it() -> None:
    assert sorted(v for v, cls in EVENT_TYPES.items() if cls.creates_draw) == sorted(v for v, _ in CREATING)


@pytest.mark.parametrize(("verb", "fields"), CREATING)
def test_an_event_that_creates_a_draw_without_a_secret_is_refused_and_changes_nothing(
        verb: str, fields: dict[str, Any]) -> None:
    engine = make_engine()
    act(engine, "join", member="A", birth_date=dt.date(1990, 1, 1))
    count = engine.ledger.count
    refusal = act(engine, verb, **fields).refusal
    assert refusal is not None
    assert (str(refusal.code), refusal.field, refusal.value) == ("secret_missing", "params.secret", None)
    assert verb in refusal.reason
    assert engine.ledger.count == count
    assert not [c for m in engine.modules.values() if isinstance(m, CampaignModule) for c in m.campaigns]


def test_nothing_in_the_engine_makes_a_secret() -> None:
    """``make_secret`` stays in draw.py for the service and replay to call; no engine module calls it."""
    engine_dir = Path(draw.__file__).parent
    callers = [p.relative_to(engine_dir).as_posix() for p in sorted(engine_dir.rglob("*.py"))
               if p.name != "draw.py" and "make_secret" in p.read_text(encoding="utf-8")]
    assert callers == []


def test_replay_draws_with_a_random_secret_for_a_file_without_one_and_says_so_on_stderr(tmp_path: Path) -> None:
    path = tmp_path / "no-secret.yaml"
    path.write_text("name: no secret\nproducts: [{sku: TEA, price: \"99.00\"}]\nevents:\n"
                    "  - {create_group_buy: gb1, params: {sku: TEA}}\n"
                    "  - {create_group_buy: gb1, params: {sku: TEA}}\n"  # refused (exists): drew nothing, no note
                    "  - {create_group_buy: gb2, params: {sku: TEA, secret: \"" + SECRET + "\"}}\n",
                    encoding="utf-8")
    result = CliRunner().invoke(app, ["replay", str(path), "--json"])
    assert result.exit_code == 0, result.output
    notes = [line for line in result.stderr.splitlines() if line.startswith("note:")]
    assert len(notes) == 1
    made = re.fullmatch(r"note: campaign gb1 has no secret in the file; drew with a random one: ([0-9a-f]{64})",
                        notes[0])
    assert made is not None
    state = json.loads(result.stdout)
    assert state["campaigns"]["gb1"]["commitment"] == draw.commitment(made.group(1))  # the secret it says it used
