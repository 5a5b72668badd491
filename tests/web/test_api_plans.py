"""Plans through the API: the chain21 config read, changed (validated before it is logged, versioned, in effect
for later events, recorded in every applied event's outcome), and seeds transposed; close_day."""

from __future__ import annotations

import pytest
from api_client import Caller, Register, buy, make_operator

from liandong.service.store.models import EventOutcome, LoggedEvent
from liandong.web.accounts.models import AuditLog

pytest_plugins = ["api_fixtures"]
pytestmark = pytest.mark.django_db


def test_the_running_plan_and_its_defaults(api_shop: None, api_operator: Caller) -> None:
    plans = api_operator.get("/api/operator/plans").body
    assert [(p["plan"], p["version"]) for p in plans] == [("chain21", 1)]
    config = plans[0]["config"]
    assert (config["team_reward"], config["peer_rate"], config["direct_reward"]) == (
        "200.00", "0.10", {"agent": "100.00", "partner": "300.00"})


def test_a_change_is_versioned_and_applies_to_later_events(api_shop: None, api_operator: Caller,
                                                            register_member: Register) -> None:
    alice = register_member("alice")
    buy(alice)
    before = register_member("bob", inviter=alice)
    buy(before)                                             # alice +100.00 (agent direct reward, version 1)
    changed = api_operator.post("/api/operator/plans/chain21", {"config": {"direct_reward": {"agent": "120.00"}}})
    assert changed.status == 200
    assert (changed.body["version"], changed.body["config"]["direct_reward"]) == (
        2, {"agent": "120.00", "partner": "300.00"})
    after = register_member("carol", inviter=alice)
    buy(after)                                              # alice's second direct agent: +120.00 (version 2)
    assert alice.get("/api/me/balances").body["available"] == "220.00"
    versions = api_operator.get("/api/operator/plans/chain21/versions").body
    assert [(v["version"], v["actor"], v["config"]["direct_reward"]["agent"]) for v in versions] == [
        (1, None, "100.00"), (2, "operator:operator", "120.00")]
    pays = EventOutcome.objects.filter(event__verb="pay").order_by("event_id")
    assert [o.config_version for o in pays] == [1, 1, 2]
    logged = LoggedEvent.objects.get(verb="configure_plan")
    assert logged.payload["config"]["direct_reward"] == {"agent": "120.00", "partner": "300.00"}
    assert logged.payload["config"]["team_reward"] == "200.00"  # the whole config, not only the change
    assert AuditLog.objects.get(action="configure_plan").actor == "operator"


@pytest.mark.parametrize(("change", "field", "value"), [
    ({"peer_rate": "1.5"}, "config.peer_rate", "1.5"),
    ({"team_reward": 12.5}, "config.team_reward", "12.5"),
    ({"promote_after": 0}, "config.promote_after", 0),
    ({"bogus": 1}, "config.bogus", 1),
])
def test_an_invalid_config_is_a_400_naming_the_key_and_nothing_is_logged(api_shop: None, api_operator: Caller,
                                                                         change: dict[str, object], field: str,
                                                                         value: object) -> None:
    r = api_operator.post("/api/operator/plans/chain21", {"config": change})
    assert r.status == 400
    assert (r.body["error"]["code"], r.body["error"]["field"], r.body["error"]["value"]) == ("invalid", field, value)
    assert not LoggedEvent.objects.filter(verb="configure_plan").exists()


def test_a_plan_the_shop_does_not_run_is_a_404(api_shop: None, api_operator: Caller) -> None:
    r = api_operator.post("/api/operator/plans/points", {"config": {}})
    assert r.status == 404 and (r.body["error"]["field"], r.body["error"]["value"]) == ("plan", "points")


def test_the_blind_box_seed_coupons_are_a_shop_wide_config_the_operator_changes(
        api_shop: None, api_operator: Caller, register_member: Register) -> None:
    """A campaign module's config (not a plan: it is not listed among the running plans) is read and changed
    through the same routes; the change applies to members who join after it."""
    assert api_operator.get("/api/operator/plans/blind_box").body["config"] == {"skus": None, "seed_users": 1000,
                                                                                "seed_coupons": 100}
    first = register_member("first")
    changed = api_operator.post("/api/operator/plans/blind_box", {"config": {"seed_users": 0}})
    assert changed.status == 200 and changed.body["config"]["seed_users"] == 0
    later = register_member("later")
    assert first.get("/api/me/balances").body["other"] == {"coupons": "100"}
    assert later.get("/api/me/balances").body["other"] == {}
    assert [p["plan"] for p in api_operator.get("/api/operator/plans").body] == ["chain21"]
    bad = api_operator.post("/api/operator/plans/blind_box", {"config": {"seed_users": -1}})
    assert bad.status == 400 and bad.body["error"]["field"] == "config.seed_users"


def test_config_changes_need_the_configure_plan_permission(api_shop: None) -> None:
    clerk = make_operator("clerk", permissions=("close_day", "refund_order"))
    assert clerk.get("/api/operator/plans").status == 200  # any operator reads
    r = clerk.post("/api/operator/plans/chain21", {"config": {"team_reward": "1.00"}})
    assert r.status == 403 and r.body["error"]["value"] == "the permission accounts.configure_plan"


def test_a_transpose_before_its_time_is_the_engines_refusal(api_shop: None, api_operator: Caller,
                                                            register_member: Register) -> None:
    a = register_member("a")
    buy(a)
    s1, s2, z = (register_member(name, inviter=a) for name in ("s1", "s2", "z"))
    for member in (s1, s2, z):
        buy(member)
    for name in ("z1", "z2"):
        buy(register_member(name, inviter=z))             # z is a partner now
    r = api_operator.post("/api/operator/actions/transpose",
                          {"partner": a.member, "seed": s2.member, "with": z.member})
    assert r.status == 422
    assert (r.body["error"]["code"], r.body["error"]["field"]) == ("transpose_too_early", "at")
    assert "less than 30 days after" in r.body["error"]["message"]
    assert AuditLog.objects.get(action="transpose").target == a.member


def test_close_day_today_is_applied_and_a_future_day_is_a_400(api_shop: None, api_operator: Caller) -> None:
    from liandong.web.api.reads import today as shop_today

    today = shop_today()
    later = today.replace(year=today.year + 1)
    future = api_operator.post("/api/operator/close-day", {"day": later.isoformat()})
    assert future.status == 400 and (future.body["error"]["field"], future.body["error"]["value"]) == (
        "day", later.isoformat())
    closed = api_operator.post("/api/operator/close-day", {"day": today.isoformat()})
    assert closed.status == 200 and closed.body["day"] == today.isoformat()
    past = api_operator.post("/api/operator/close-day", {"day": "2020-01-01"})
    assert past.status == 422 and past.body["error"]["code"] == "day_before_clock"
    refused = api_operator.get("/api/operator/events?refused=true").body
    assert [(e["verb"], e["refusal"]["code"]) for e in refused["events"]] == [("close_day", "day_before_clock")]
    assert refused["next_after"] is None


def test_a_control_character_in_a_config_value_is_a_400(api_shop: None, api_operator: Caller) -> None:
    r = api_operator.post("/api/operator/plans/chain21", {"config": {"skus": ["GIFT", "T\u0007A"]}})
    assert r.status == 400
    assert (r.body["error"]["field"], r.body["error"]["value"]) == ("config.skus.1", "T\u0007A")
    assert not LoggedEvent.objects.filter(verb="configure_plan").exists()


def test_a_reward_above_a_gift_packs_price_is_a_422_naming_the_key_and_the_sku(api_shop: None,
                                                                               api_operator: Caller) -> None:
    r = api_operator.post("/api/operator/plans/chain21", {"config": {"team_reward": "700.00"}})
    assert r.status == 422
    error = r.body["error"]
    assert (error["code"], error["field"], error["value"]) == ("reward_above_price", "config.team_reward", "700.00")
    assert error["message"] == ("config.team_reward 700.00: team_reward 700.00 is more than the price 699.00 of "
                                "gift pack GIFT")
    assert api_operator.get("/api/operator/plans/chain21").body["config"]["team_reward"] == "200.00"
