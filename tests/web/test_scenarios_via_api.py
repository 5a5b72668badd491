"""Every shared scenario (``../shared/scenarios``) replayed through the HTTP API ends with the balances its ``expect``
names, read back through the API.

Each scenario event becomes what a shop's users would do: ``join`` registers with the referrer's invite code,
``pay`` creates an order and the payment provider confirms it through the signed webhook, ``refund``, ``close_day``,
``approve_withdrawal``, ``reject_withdrawal`` and ``transpose`` are operator calls, ``withdraw`` is the member's
request (to a payee account). The rulebook's ``approve_withdrawal`` means approved and paid out: through the API
that is two calls, approve (the payout to come) then mark-paid (it left), and the balances end as the scenario says.
The clock the events are logged at follows the scenario (one second per event, or its ``at``), so the worker
applies each event at the instant ``liandong replay`` would. An event the API or the engine refuses counts toward
``refused``; a member that never joined cannot log in, so its requests are refused at the door.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from api_client import Caller, FakeClock, Register, make_operator, make_shop, signed_webhook
from django.test import Client

from liandong import scenario as sc
from liandong.engine.money import format_fen

pytest_plugins = ["api_fixtures"]
pytestmark = pytest.mark.django_db

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "scenarios"
SCENARIOS = sorted(SHARED.glob("*.yaml"))
BOOKS = ("available", "pending", "help_fund", "withdrawing", "withdrawn")


class ThroughTheApi:
    """Plays one scenario's events as HTTP calls and reads its end state back through the API."""

    def __init__(self, scenario: sc.Scenario, clock: FakeClock, register: Register, operator: Caller) -> None:
        self.scenario, self.clock, self.register, self.operator = scenario, clock, register, operator
        self.members: dict[str, Caller] = {}
        self.orders: dict[str, str] = {}
        self.withdrawals: dict[str, str] = {}
        self.refused: list[dict[str, Any]] = []

    def caller(self, name: str) -> Caller:
        return self.members.get(name) or Caller(Client())  # never joined: no credentials

    def refuse(self, index: int, status: int, body: Any) -> None:
        error = body.get("error", {}) if isinstance(body, dict) else {}
        self.refused.append({"event": index, "reason": f"HTTP {status} {error.get('message', body)}"})

    def play(self) -> None:
        for parsed in self.scenario.events:
            self.clock.now = parsed.at if parsed.at is not None else self.clock.now + dt.timedelta(seconds=1)
            status, body = getattr(self, f"on_{parsed.cls.verb}")(parsed.fields)
            if status >= 400:
                self.refuse(parsed.index, status, body)

    # --- one method per verb: (status, body) of the call that logged the event ---
    def on_join(self, f: dict[str, Any]) -> tuple[int, Any]:
        inviter = self.members.get(f["referrer"]) if f.get("referrer") else None
        if f.get("referrer") and inviter is None:
            return 400, {"error": {"message": f"referrer {f['referrer']} has no invite code"}}
        self.members[f["member"]] = self.register(f["member"], inviter=inviter)
        return 201, None

    def on_pay(self, f: dict[str, Any]) -> tuple[int, Any]:
        buyer = self.caller(f["member"])
        order = buyer.post("/api/orders", {"sku": f["sku"], "quantity": f.get("quantity", 1)})
        if order.status != 201:
            return order.status, order.body
        self.orders[f["order"]] = order.body["order"]
        paid = signed_webhook(buyer, {"payment_id": f"pay-{f['order']}", "order": order.body["order"],
                                      "amount": order.body["amount"]})
        if paid.status != 200:
            return paid.status, paid.body
        now = buyer.get(f"/api/orders/{order.body['order']}").body
        return (422, {"error": now["refusal"]}) if now["status"] == "payment_refused" else (200, now)

    def on_refund(self, f: dict[str, Any]) -> tuple[int, Any]:
        r = self.operator.post(f"/api/operator/orders/{self.orders.get(f['order'], f['order'])}/refund")
        return r.status, r.body

    def on_close_day(self, f: dict[str, Any]) -> tuple[int, Any]:
        day: dt.date = f["day"] if isinstance(f["day"], dt.date) else dt.date.fromisoformat(f["day"])
        r = self.operator.post("/api/operator/close-day", {"day": day.isoformat()})
        end = dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=self.clock.now.tzinfo)
        self.clock.now = max(self.clock.now, end)
        return r.status, r.body

    def on_withdraw(self, f: dict[str, Any]) -> tuple[int, Any]:
        body = {"amount": format_fen(f["amount"]), "payee": f.get("payee") or f"alipay:{f['member']}"}
        r = self.caller(f["member"]).post("/api/withdrawals", body)
        if r.status == 201:
            self.withdrawals[f["withdrawal"]] = r.body["withdrawal"]
        return r.status, r.body

    def _decide(self, f: dict[str, Any], action: str) -> tuple[int, Any]:
        withdrawal = self.withdrawals.get(f["withdrawal"], f["withdrawal"])
        r = self.operator.post(f"/api/operator/withdrawals/{withdrawal}/{action}")
        return r.status, r.body

    def on_approve_withdrawal(self, f: dict[str, Any]) -> tuple[int, Any]:
        status, body = self._decide(f, "approve")
        if status != 200 or f.get("paid_out") is False:
            return status, body
        withdrawal = self.withdrawals.get(f["withdrawal"], f["withdrawal"])
        r = self.operator.post(f"/api/operator/withdrawals/{withdrawal}/mark-paid", {"reference": "scenario"})
        return r.status, r.body

    def on_reject_withdrawal(self, f: dict[str, Any]) -> tuple[int, Any]:
        return self._decide(f, "reject")

    def on_transpose(self, f: dict[str, Any]) -> tuple[int, Any]:
        ids = {key: self.caller(f[key]).member or f[key] for key in ("partner", "seed", "with")}
        r = self.operator.post("/api/operator/plans/chain21/transpose", ids)
        return r.status, r.body

    # --- the end state, read through the API ---
    def member_state(self, name: str) -> dict[str, Any]:
        names = {c.member: n for n, c in self.members.items()}
        caller = self.members[name]
        balances = caller.get("/api/me/balances").body
        rank = caller.get("/api/me/rank").body
        team = caller.get("/api/me/team").body
        profile = caller.get("/api/me").body
        return {"rank": rank["rank"], "team": names.get(rank["team"]), "referrer": names.get(profile["referrer"]),
                "seeds": [names[s["member"]] for s in team["seeds"]], **{book: balances[book] for book in BOOKS}}

    def end_state(self) -> dict[str, Any]:
        summary = self.operator.get("/api/operator/summary").body
        expected = (self.scenario.expect or {}).get("members", {})
        return {"members": {name: self.member_state(name) for name in expected if name in self.members},
                "pools": summary["pools"], "platform": summary["platform"], "refused": self.refused}


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_a_shared_scenario_through_the_api_ends_as_its_expect_says(
        path: Path, api_settings: Any, fake_clock: FakeClock, register_member: Register) -> None:
    scenario = sc.load(path)
    assert scenario.expect is not None, f"{path.name} has no expect block"
    api_settings.API_TOKEN_DAYS = 3650  # the scenario's clock runs weeks ahead
    fake_clock.now = scenario.shop.start
    products = [{"sku": p.sku, "price": format_fen(p.price), "gift_pack": p.gift_pack} for p in scenario.shop.products]
    make_shop(scenario.shop.plans, start=scenario.shop.start, products=products)
    player = ThroughTheApi(scenario, fake_clock, register_member, make_operator())
    player.play()
    assert sc.compare(scenario.expect, player.end_state()) == []


def test_the_shared_scenarios_are_there() -> None:
    assert len(SCENARIOS) >= 8, f"expected the shared scenarios in {SHARED}"
