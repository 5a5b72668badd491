"""The service logs a draw's secret with every event that creates a draw (the engine makes none)."""

from __future__ import annotations

import re

import pytest

from liandong.engine.events import EVENT_TYPES
from liandong.service.log import with_draw_secret

HEX64 = re.compile(r"[0-9a-f]{64}")
CREATING = sorted(verb for verb, cls in EVENT_TYPES.items() if cls.creates_draw)


def test_the_verbs_that_create_a_draw_include_the_blind_box_start() -> None:
    assert CREATING == ["create_group_buy", "create_presale", "create_red_envelope", "start_blind_box"]


@pytest.mark.parametrize("verb", CREATING)
def test_an_event_that_creates_a_draw_is_logged_with_a_fresh_secret(verb: str) -> None:
    logged = with_draw_secret(verb, {"campaign": "c1", "params": {"sku": "TEA"}})
    assert HEX64.fullmatch(logged["params"]["secret"])
    assert logged["params"]["sku"] == "TEA" and logged["campaign"] == "c1"
    assert with_draw_secret(verb, {"campaign": "c1"})["params"]["secret"] != logged["params"]["secret"]


def test_a_given_secret_is_kept_and_other_events_get_none() -> None:
    given = {"campaign": "b1", "params": {"prize_sku": "BOX", "secret": "ab" * 32}}
    assert with_draw_secret("start_blind_box", given) == given
    opening = {"member": "C", "campaign": "b1"}
    assert with_draw_secret("open_blind_box", opening) == opening
    update = {"campaign": "gb1", "params": {"group_size": 3}}
    assert with_draw_secret("update_campaign", update) == update  # changes a draft; creates no draw
