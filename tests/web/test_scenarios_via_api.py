"""Every scenario (``../shared/scenarios`` and ``tests/scenarios``) replayed through the HTTP API ends as
``liandong replay`` says: its ``expect`` holds on the state read back through the API.

Each event becomes what a shop's users would do. ``join`` registers with the referrer's invite code; ``pay``
creates an order and the payment provider confirms it through the signed webhook; ``refund`` and ``close_day`` are
the operator's endpoints; ``tick`` is the worker's clock. Every other verb goes through the route the registry
builds for it (``/api/actions/<verb>`` for members, ``/api/operator/actions/<verb>`` for operators); a paid action
(a group seat, a pre-sale entry, a blind box) answers an order that the webhook pays. Ids the service chooses
(members, groups, blind-box sets, withdrawals) are the scenario's: the test sets the service's id maker and its
secret maker, as fixed random sources (a draw's numbers depend on the entries' ids and the secret); the ids of
plain orders are mapped. The clock the events
are logged at follows the scenario, so the worker applies each event at the instant ``liandong replay`` would.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_client import Caller, FakeClock, Register, make_operator, make_shop, signed_webhook
from django.test import Client

from liandong import scenario as sc
from liandong.engine.money import format_fen
from liandong.engine.registry import REGISTRY
from liandong.service import log as service_log
from liandong.service.worker import append_system_event, drain
from liandong.web.api import events as events_api
from liandong.web.api import members as members_api
from liandong.web.api import shop as shop_api

pytest_plugins = ["api_fixtures"]
pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT.parent / "shared" / "scenarios").glob("*.yaml")) + sorted(
    (ROOT / "tests" / "scenarios").glob("*.yaml"))


def _plain(value: Any) -> Any:
    """A scenario value as JSON sends it: dates and times as ISO text."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class ThroughTheApi:
    """Plays one scenario's events as HTTP calls and reads its end state back through the API."""

    def __init__(self, scenario: sc.Scenario, clock: FakeClock, register: Register, operator: Caller,
                 secrets: list[str], chosen: list[str]) -> None:
        self.scenario, self.clock, self.register, self.operator = scenario, clock, register, operator
        self.secrets = secrets  # what the service's secret maker returns next
        self.chosen = chosen  # what the service's id maker returns next
        self.used: set[str] = set()  # ids the service was given already
        self.members: dict[str, Caller] = {}
        self.ids: dict[str, str] = {}  # scenario id -> the id the service chose
        self.refused: list[dict[str, Any]] = []

    # --- ids ---
    def api(self, value: Any) -> Any:
        if isinstance(value, str):
            caller = self.members.get(value)
            return caller.member if caller is not None else self.ids.get(value, value)
        if isinstance(value, dict):
            return {k: self.api(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.api(v) for v in value]
        return value

    def back(self, value: Any) -> Any:
        """Service ids in ``value`` (strings and mapping keys) replaced by the scenario's."""
        names = {c.member: n for n, c in self.members.items()} | {v: k for k, v in self.ids.items()}
        if isinstance(value, str):
            return names.get(value, value)
        if isinstance(value, dict):
            return {self.back(k): self.back(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.back(v) for v in value]
        return value

    def back_text(self, text: str) -> str:
        """A sentence (a refusal's reason) with the service's ids replaced by the scenario's."""
        names = {c.member: n for n, c in self.members.items() if c.member} | {v: k for k, v in self.ids.items()}
        for chosen in sorted(names, key=len, reverse=True):
            text = text.replace(chosen, names[chosen])
        return text

    def caller(self, name: str) -> Caller:
        return self.members.get(name) or Caller(Client())  # never joined: no credentials

    # --- playing ---
    def play(self) -> None:
        for parsed in self.scenario.events:
            if parsed.at is not None and parsed.at < self.clock.now:  # a server's clock never goes back
                self.refused.append({"event": parsed.index, "code": "at_before_clock", "edge": True})
                continue
            self.clock.now = parsed.at if parsed.at is not None else self.clock.now + dt.timedelta(seconds=1)
            handler = getattr(self, f"on_{parsed.cls.verb}", None)
            fields = {name: (format_fen(v) if name in parsed.cls.money_fields and isinstance(v, int) else v)
                      for name, v in parsed.fields.items()}
            status, body = handler(fields) if handler else self.generic(parsed.cls.verb, _plain(fields))
            if status >= 400:
                error = body.get("error", {}) if isinstance(body, dict) else {}
                self.refused.append({"event": parsed.index, "code": error.get("code"), "field": error.get("field"),
                                     "reason": error.get("message", f"HTTP {status} {body}"),
                                     "edge": status != 422})  # refused by the API itself, not by the engine
        drain()

    def on_join(self, f: dict[str, Any]) -> tuple[int, Any]:
        if f["member"] in self.members:
            return 409, {"error": {"code": "member_exists", "field": "member",
                                   "message": f"member {f['member']} already exists"}}
        inviter = self.members.get(f["referrer"]) if f.get("referrer") else None
        if f.get("referrer") and inviter is None:
            return 400, {"error": {"message": f"referrer {f['referrer']} has no invite code"}}
        extra = {k: _plain(f[k]) for k in ("birth_date", "guardian_consent") if f.get(k) is not None}
        self.chosen.append(f["member"])  # the member id the service gives it
        self.members[f["member"]] = self.register(f["member"], inviter=inviter, **extra)
        return 201, None

    def on_pay(self, f: dict[str, Any]) -> tuple[int, Any]:
        buyer = self.caller(f["member"])
        body = {"sku": f["sku"], "quantity": f.get("quantity", 1)}
        if f.get("points") is not None:
            body["points"] = f["points"]
        self.chosen.append(f["order"])  # the order id the service gives it
        order = buyer.post("/api/orders", body)
        del self.chosen[:]
        if order.status != 201:
            return order.status, order.body
        return self.pay(buyer, order.body)

    def pay(self, buyer: Caller, order: dict[str, Any]) -> tuple[int, Any]:
        paid = signed_webhook(buyer, {"payment_id": f"pay-{order['order']}", "order": order["order"],
                                      "amount": order["amount"]})
        if paid.status != 200:
            return paid.status, paid.body
        now = buyer.get(f"/api/orders/{order['order']}").body
        return (422, {"error": now["refusal"]}) if now["status"] == "payment_refused" else (200, now)

    def on_refund(self, f: dict[str, Any]) -> tuple[int, Any]:
        r = self.operator.post(f"/api/operator/orders/{self.api(f['order'])}/refund")
        return r.status, r.body

    def on_close_day(self, f: dict[str, Any]) -> tuple[int, Any]:
        day: dt.date = f["day"] if isinstance(f["day"], dt.date) else dt.date.fromisoformat(f["day"])
        end = dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=self.scenario.shop.start.tzinfo)
        self.clock.now = max(self.clock.now, end)  # the operator closes the day once it has ended
        r = self.operator.post("/api/operator/close-day", {"day": day.isoformat()})
        return r.status, r.body

    def on_reject_withdrawal(self, f: dict[str, Any]) -> tuple[int, Any]:
        """As an operator would: the API requires a reason, which a scenario written before reasons existed (the
        shared ``chain21-withdrawals.yaml``) does not give; the ledger does not depend on it."""
        body = {"withdrawal": self.api(f["withdrawal"]), "reason": f.get("reason") or
                f"rejected in scenario {self.scenario.name}"}
        r = self.operator.post("/api/operator/actions/reject_withdrawal", body)
        return r.status, r.body

    def on_tick(self, f: dict[str, Any]) -> tuple[int, Any]:
        append_system_event("tick", {}, f"test:tick:{self.clock.now.isoformat()}")  # the worker's clock
        drain()
        return 200, None

    def on_observe_signals(self, f: dict[str, Any]) -> tuple[int, Any]:
        """The web layer's own event (web/signals.py), logged as the service logs it, before the member's next."""
        member = f["member"]
        fields = {**f, "member": self.api(member), "at": self.clock.now.isoformat()}
        append_system_event("observe_signals", fields, f"test:signals:{member}:{self.clock.now.isoformat()}")
        drain()
        return 200, None

    def generic(self, verb: str, f: dict[str, Any]) -> tuple[int, Any]:
        spec = REGISTRY.verb(verb)
        params = f.get("params")
        if isinstance(params, dict) and "secret" in params:  # the service's secret maker gives it for this event
            self.secrets.append(params["secret"])
            f = {**f, "params": {k: v for k, v in params.items() if k != "secret"}}
        if "member" in spec.senders:
            return self.as_member(verb, spec, f)
        r = self.operator.post(f"/api/operator/actions/{verb}", self.api(f))
        return r.status, r.body

    def as_member(self, verb: str, spec: Any, f: dict[str, Any]) -> tuple[int, Any]:
        caller = self.caller(f[spec.member_field])
        generated = [name for name, _prefix in spec.generated]
        for name in generated:  # the scenario's id, or the one replay gives a seat's order (``<group>-<member>``)
            wanted = given = f.get(name) or f"{f.get('group')}-{f[spec.member_field]}"
            while name not in f and given in self.used:  # a seat's order id a refused payment still holds: a new
                given = f"{wanted}.{len(self.used)}"  # one, read back as the scenario's
            self.used.add(given)
            self.ids[wanted] = given
            self.chosen.append(given)
        body = {k: self.api(v) for k, v in f.items() if k != spec.member_field and k not in generated}
        for name in spec.member_refs:
            if name in f:
                body[name] = self.caller(f[name]).invite_code or f[name]
        r = caller.post(f"/api/actions/{verb}", body)
        del self.chosen[:]  # ids the request did not use (it was refused before it chose them)
        if r.status == 201:  # a paid action: the order the provider pays
            return self.pay(caller, r.body)
        return r.status, r.body

    # --- the end state, read through the API ---
    def end_state(self) -> dict[str, Any]:
        summary = self.operator.get("/api/operator/summary").body
        refused = [{k: v for k, v in r.items() if k != "edge"} | {"reason": self.back_text(str(r.get("reason", "")))}
                   for r in self.refused]
        state: dict[str, Any] = {"pools": summary["pools"], "platform": summary["platform"],
                                 "ledger": summary["ledger"], "refused": self.back(refused), "members": {}}
        for name, caller in self.members.items():
            seen = self.operator.get(f"/api/operator/members/{caller.member}").body
            state["members"][name] = self.back(seen["view"])
            for fund_id, fund in seen["reads"].get("group_buy", {}).get("locked_funds", {}).items():
                state.setdefault("locked_funds", {})[self.back(fund_id)] = self.back(fund)
        for kind in self.scenario.shop.plans:
            r = self.operator.get(f"/api/operator/plans/{kind}/state")
            if r.status == 200:
                for key, value in self.back(r.body).items():
                    state.setdefault(key, {}).update(value) if isinstance(value, dict) else state.update({key: value})
        for campaign in self.campaigns():
            view = self.back(self.operator.get(f"/api/operator/campaigns/{campaign}").body)
            state.setdefault("campaigns", {})[view["id"]] = view
            for group in view.get("group_views", ()):
                state.setdefault("groups", {})[group["group"]] = group
            state.setdefault("draws", []).extend(view.get("draws", ()))
        return state

    def campaigns(self) -> Iterator[str]:
        """Every campaign the scenario created or started, by the service's id."""
        seen: list[str] = []
        for parsed in self.scenario.events:
            cid = parsed.fields.get("campaign")
            if parsed.cls.verb.startswith(("create_", "start_blind_box")) and cid and cid not in seen:
                seen.append(cid)
        for cid in seen:
            r = self.operator.get(f"/api/operator/campaigns/{self.api(cid)}")
            if r.status == 200:
                yield str(self.api(cid))


def _by_content(draws: list[Any]) -> list[Any]:
    """Draw records in one order whatever the order campaigns were read in (each campaign keeps its own order)."""
    return sorted(draws, key=lambda d: json.dumps(d, sort_keys=True))


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_a_scenario_through_the_api_ends_as_its_expect_says(
        path: Path, api_settings: Any, fake_clock: FakeClock, register_member: Register,
        monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = sc.load(path)
    assert scenario.expect is not None, f"{path.name} has no expect block"
    api_settings.API_TOKEN_DAYS = 3650  # the scenario's clock runs weeks ahead
    secrets: list[str] = []
    make_secret = service_log.make_secret
    monkeypatch.setattr(service_log, "make_secret", lambda: secrets.pop(0) if secrets else make_secret())
    chosen: list[str] = []
    new_id, new_ids, new_order = events_api.new_id, members_api._new_ids, shop_api.new_order_id
    monkeypatch.setattr(events_api, "new_id", lambda prefix: chosen.pop(0) if chosen else new_id(prefix))
    monkeypatch.setattr(shop_api, "new_order_id", lambda: chosen.pop(0) if chosen else new_order())
    monkeypatch.setattr(members_api, "_new_ids", lambda: (chosen.pop(0), new_ids()[1]) if chosen else new_ids())
    fake_clock.now = scenario.shop.start
    products = [{"sku": p.sku, "price": format_fen(p.price), "gift_pack": p.gift_pack,
                 **({"red_envelope": format_fen(p.red_envelope)} if p.red_envelope else {})}
                for p in scenario.shop.products]
    make_shop(scenario.shop.plans, start=scenario.shop.start, products=products)
    player = ThroughTheApi(scenario, fake_clock, register_member, make_operator(), secrets, chosen)
    player.play()
    state = player.end_state()
    expect = dict(scenario.expect)
    if isinstance(expect.get("refused"), list):  # a refusal at the API's edge is compared by its event only
        edge = {r["event"] for r in player.refused if r.get("edge")}
        state["refused"] = [next((e for e in expect["refused"] if e.get("event") == r["event"]), r)
                            if r["event"] in edge else r for r in state["refused"]]
    if "draws" in expect:
        expect["draws"], state["draws"] = _by_content(expect["draws"]), _by_content(state.get("draws", []))
    assert sc.compare(expect, state) == []


def test_the_scenarios_are_there() -> None:
    assert len(SCENARIOS) >= 40, f"expected the shared and the project's scenarios, found {len(SCENARIOS)}"
