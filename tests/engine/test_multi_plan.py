"""Several plans on one shop: chain21 on gift packs, distribution on the rest, points on everything. Each plan posts
exactly what it posts when it runs alone; shared things (withdrawal policy, points on products a plan covers) are
decided once, with refusals that name the field and the value."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from liandong import scenario as sc
from liandong.engine import Engine, Shop
from liandong.engine import events as ev
from liandong.engine.core import DEFAULT_START, Product
from liandong.engine.plans.distribution import Visit
from liandong.engine.registry import PLANS, new_engine

PRODUCTS = [Product("GIFT", 69900, gift_pack=True), Product("TEA", 10000)]
MIXED: dict[str, dict[str, Any]] = {
    "chain21": {"skus": ["GIFT"]},
    "distribution": {"levels": 2, "rates": ["0.10", "0.05"], "skus": ["TEA"]},
    "points": {},
}


def postings_of(engine: Engine, plan: str) -> list[tuple[Any, ...]]:
    """What a plan posted, without transaction ids (they count every plan's postings)."""
    return [(t.event, t.rule, t.entries, t.order, t.source, t.ref) for t in engine.ledger.transactions
            if t.plan == plan]


def replay(plans: dict[str, dict[str, Any]], events: list[ev.Event]) -> Engine:
    engine = new_engine(Shop(products=list(PRODUCTS), plans=plans))
    for event in events:
        engine.apply(event)
    assert engine.check_invariants() == []
    return engine


def story() -> list[ev.Event]:
    """A partner promoted by gift packs, tea bought through links, refunds before and after a close."""
    at = DEFAULT_START
    out: list[ev.Event] = []

    def add(event_type: type[ev.Event], **fields: Any) -> None:
        nonlocal at
        at += dt.timedelta(minutes=1)
        out.append(event_type(at=at, **fields))

    add(ev.Join, member="A")
    add(ev.Pay, member="A", sku="GIFT", order="g-a")
    for child in ("A1", "A2", "B"):
        add(ev.Join, member=child, referrer="A")
        add(ev.Pay, member=child, sku="GIFT", order=f"g-{child}")
    add(ev.Join, member="C", referrer="B")
    add(ev.Pay, member="C", sku="TEA", order="t-c1")
    add(Visit, member="C", promoter="A1")
    add(ev.Pay, member="C", sku="GIFT", order="g-c")
    add(ev.Pay, member="C", sku="TEA", order="t-c2")
    add(ev.Refund, order="t-c1")
    add(ev.CloseDay, day=dt.date(2026, 1, 1))
    at = dt.datetime(2026, 1, 5, 9, tzinfo=at.tzinfo)
    add(ev.Refund, order="g-c")
    add(ev.Pay, member="B", sku="TEA", order="t-b")
    add(ev.CloseDay, day=dt.date(2026, 1, 8))
    return out


def test_the_registry_offers_the_three_plans() -> None:
    assert {"chain21", "distribution", "points"} <= set(PLANS)


def test_each_plan_posts_on_the_mixed_shop_exactly_what_it_posts_alone() -> None:
    events = story()
    mixed = replay(MIXED, events)
    for kind, config in MIXED.items():
        alone = replay({kind: config}, events)
        assert postings_of(mixed, kind) == postings_of(alone, kind), kind
        assert postings_of(alone, kind), f"the story gives {kind} nothing to do"
        assert alone.modules[kind].end_state(alone) == mixed.modules[kind].end_state(mixed)


def test_on_the_mixed_shop_each_plan_sees_only_its_products() -> None:
    mixed = replay(MIXED, story())
    orders = {kind: {t.order for t in mixed.ledger.transactions if t.plan == kind and t.order} for kind in MIXED}
    assert orders["chain21"] == {"g-a", "g-A1", "g-A2", "g-B", "g-c"}
    assert orders["distribution"] == {"t-c1", "t-c2", "t-b"}
    assert orders["points"] == {"g-a", "g-A1", "g-A2", "g-B", "g-c", "t-c1", "t-c2", "t-b"}


def test_paying_with_points_changes_no_commission() -> None:
    events = story()
    with_points = [e if not (isinstance(e, ev.Pay) and e.order == "t-b") else e.model_copy(update={"points": 1000})
                   for e in events]
    plain, paid = replay(MIXED, events), replay(MIXED, with_points)
    assert paid.refused == [] and paid.balance("B", "points") < plain.balance("B", "points")
    assert postings_of(paid, "distribution") == postings_of(plain, "distribution")
    assert postings_of(paid, "chain21") == postings_of(plain, "chain21")


def test_paying_with_points_for_a_product_the_points_plan_does_not_cover_is_refused() -> None:
    doc = {"name": "t", "plans": {"points": {"skus": ["GIFT"]}, "distribution": {"skus": ["TEA"]}},
           "products": [{"sku": "GIFT", "price": "699.00", "gift_pack": True}, {"sku": "TEA", "price": "100.00"}],
           "events": [{"join": "A"}, {"pay": "A", "sku": "GIFT"}, {"pay": "A", "sku": "TEA", "points": "10.00"}]}
    result = sc.replay(sc.parse(doc), check_invariants=True)
    assert [(s, str(r.code), r.field, r.value, r.reason) for s, r in result.engine.refused] == [
        (3, "not_allowed", "points", "10.00", "points 10.00: the points plan does not apply to TEA")]


def test_the_shops_minimum_withdrawal_is_the_highest_any_plan_asks_for() -> None:
    doc = {"name": "t", "plans": {"chain21": {"skus": ["GIFT"]},
                                  "distribution": {"skus": ["TEA"], "min_withdrawal": "50.00"}},
           "products": [{"sku": "GIFT", "price": "699.00", "gift_pack": True}],
           "events": [{"join": "A"}, {"pay": "A", "sku": "GIFT"}, {"join": "B", "referrer": "A"},
                      {"pay": "B", "sku": "GIFT"}, {"withdraw": "A", "amount": "49.99"},
                      {"withdraw": "A", "amount": "50.00"}]}
    result = sc.replay(sc.parse(doc), check_invariants=True)
    assert [r.reason for _s, r in result.engine.refused] == ["amount 49.99 is below the minimum withdrawal 50.00"]


# --- the same independence after random sequences -----------------------------------------------------------------

MEMBERS = ["A", "B", "C", "D", "E"]
step = st.one_of(
    st.tuples(st.just("join"), st.integers(0, 4)),
    st.tuples(st.just("pay"), st.integers(0, 4), st.sampled_from(["GIFT", "TEA"])),
    st.tuples(st.just("visit"), st.integers(0, 4), st.integers(0, 4)),
    st.tuples(st.just("refund"), st.integers(0, 50)),
    st.tuples(st.just("close"),),
)


def random_events(steps: list[tuple[Any, ...]]) -> list[ev.Event]:
    at = DEFAULT_START
    joined: list[str] = []
    orders: list[str] = []
    out: list[ev.Event] = []
    for i, s in enumerate(steps):
        at += dt.timedelta(hours=7)
        if s[0] == "join" and len(joined) < len(MEMBERS):
            referrer = joined[s[1] % len(joined)] if joined else None
            out.append(ev.Join(at=at, member=MEMBERS[len(joined)], referrer=referrer))
            joined.append(MEMBERS[len(joined)])
        elif s[0] == "pay" and joined:
            orders.append(f"o{i}")
            out.append(ev.Pay(at=at, member=joined[s[1] % len(joined)], sku=s[2], order=orders[-1]))
        elif s[0] == "visit" and joined:
            out.append(Visit(at=at, member=joined[s[1] % len(joined)], promoter=joined[s[2] % len(joined)]))
        elif s[0] == "refund" and orders:
            out.append(ev.Refund(at=at, order=orders[s[1] % len(orders)]))
        else:
            out.append(ev.CloseDay(at=at, day=(at.astimezone(DEFAULT_START.tzinfo)).date()))
    return out


@settings(max_examples=40, deadline=None)
@given(steps=st.lists(step, min_size=5, max_size=40))
def test_no_plan_changes_another_after_any_sequence(steps: list[tuple[Any, ...]]) -> None:
    events = random_events(steps)
    mixed = replay(MIXED, events)
    for kind, config in MIXED.items():
        alone = replay({kind: config}, events)
        assert postings_of(mixed, kind) == postings_of(alone, kind), kind
