"""Presets and plan files: documented defaults, and bad input named by file, key and value."""

from __future__ import annotations

from pathlib import Path

import pytest

from liandong.sim.planfile import PlanFileError, load_plan, parse_plan_doc
from liandong.sim.preset import DEFAULT_PRESET, PRESETS_DIR, Preset, PresetError, load_preset, parse_preset

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "plans"


def test_the_default_preset_file_writes_out_exactly_the_models_defaults() -> None:
    assert load_preset() == Preset()
    assert load_preset(DEFAULT_PRESET).describe() == Preset().describe()


def test_a_described_preset_validates_back_to_itself() -> None:
    preset = load_preset().with_overrides(members=77, stall_day=5)
    assert Preset.model_validate(preset.describe()) == preset
    assert preset.product("GIFT").price == 69900


@pytest.mark.parametrize("raw, key, value", [
    ({"members": 0}, "members", 0),
    ({"market": {"imitation": 1.5}}, "market.imitation", 1.5),
    ({"churn": {"daly": 0.1}}, "churn.daly", 0.1),
    ({"products": [{"sku": "X", "price": 9.9}]}, "products.0.price", 9.9),
])
def test_a_bad_preset_names_its_key_and_value(raw: dict[str, object], key: str, value: object) -> None:
    with pytest.raises(PresetError) as caught:
        parse_preset(raw, "p.yaml")
    assert caught.value.key == key and caught.value.value == value
    assert str(caught.value).startswith(f"p.yaml: {key}: ")


def test_a_preset_must_sell_what_members_buy() -> None:
    with pytest.raises(PresetError, match=r"first_sku: 'BOX' is not one of the products"):
        parse_preset({"purchases": {"first_sku": "BOX"}})


def test_the_example_plans_load() -> None:
    preset = load_preset()
    assert load_plan(EXAMPLES / "chain21.yaml", preset).plans["chain21"]["team_reward"] == "200.00"
    assert load_plan(EXAMPLES / "referral-10.yaml", preset).plans["distribution"]["rates"] == ["0.10"]
    kinds = [c["kind"] for c in load_plan(EXAMPLES / "chain21-campaigns.yaml", preset).campaigns]
    assert kinds == ["group_buy", "blind_box", "presale"]


@pytest.mark.parametrize("doc, key, value", [
    ({"plan": "chain21", "team_reward": "abc"}, "chain21.team_reward", "abc"),
    ({"plan": "chain21", "team_rewrd": "1.00"}, "chain21.team_rewrd", "1.00"),
    ({"plan": "pyramid"}, "plan", "pyramid"),
    ({"plan": "distribution", "skus": ["BOX"]}, "distribution.skus", "BOX"),
    ({"team_reward": "1.00"}, "plan", None),
    ({"plan": "chain21", "campaigns": [{"params": {}}]}, "campaigns", [{"params": {}}]),
    ({"plan": "chain21", "campaigns": [{"kind": "lottery"}]}, "campaigns[0].kind", "lottery"),
    ({"plan": "chain21", "campaigns": [{"kind": "group_buy", "params": {"sku": "TEA", "group_size": 1}}]},
     "campaigns[0].params.group_size", 1),
    ({"plan": "chain21", "campaigns": [{"kind": "blind_box", "params": {"prize_sku": "NOPE"}}]},
     "campaigns[0].params.prize_sku", "NOPE"),
    ({"plan": "chain21", "campaigns": [{"kind": "red_envelope", "params": {"sku": "TEA"}}]},
     "campaigns[0].params.sku", "TEA"),  # the tea has no red envelope in the default shop
])
def test_a_bad_plan_file_names_its_key_and_value(doc: dict[str, object], key: str, value: object) -> None:
    with pytest.raises(PlanFileError) as caught:
        parse_plan_doc(doc, "plan.yaml", load_preset())
    assert (caught.value.key, caught.value.value) == (key, value)


def test_a_missing_plan_file_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(PlanFileError, match="No such file"):
        load_plan(tmp_path / "nope.yaml", load_preset())
    broken = tmp_path / "broken.yaml"
    broken.write_text("plan: [chain21\n", encoding="utf-8")
    with pytest.raises(PlanFileError) as caught:
        load_plan(broken, load_preset())
    assert caught.value.key == "(yaml)"


def test_the_retail_preset_is_the_default_shop_selling_tea_first() -> None:
    retail = load_preset(PRESETS_DIR / "retail.yaml").describe()
    default = Preset().describe()
    assert retail.pop("purchases") == {**default.pop("purchases"), "first_sku": "TEA"}
    assert (retail.pop("name"), default.pop("name")) == ("retail", "default")
    assert retail == default
