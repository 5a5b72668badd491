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


def test_on_the_story_each_plan_pays_what_its_rulebook_gives_by_hand() -> None:
    # chain21 on GIFT: A +100 (A1) +100 (A2; A promoted, seeds A1, A2, both join A's team), +300 direct on B's pack
    # (240 + 60 frozen: the seeds are agents), +200 team on C's pack (160 + 40; B +100 direct as an agent); the
    # close shares the pool, 5 × 34.95 = 174.75, to A alone (weight: B's and C's packs): 139.80 + 34.95 frozen. The
    # refund of C's pack after the close takes back B's 100 and A's 200 (40 from the help fund); the pool keeps
    # C's 34.95 (the platform bears it).
    chain21 = replay({"chain21": MIXED["chain21"]}, story())
    assert books(chain21, "A") == {"available": 579_80, "help_fund": 94_95}
    assert [books(chain21, m) for m in ("A1", "A2", "B", "C")] == [{}, {}, {}, {}]
    assert chain21.ledger.balance(("@pool", "bonus")) == 0
    # distribution on TEA, 10% / 5%, bindings made at join (C to B; the visit to A1 changes nothing: first binding
    # keeps): t-c1 and t-c2 pay B 10.00 and A 5.00, t-c1 is refunded in its window; t-b pays A 10.00. At the
    # 2026-01-08 close t-c2 (2026-01-01) has waited 7 days and settles; t-b (2026-01-05) is still pending.
    distribution = replay({"distribution": MIXED["distribution"]}, story())
    assert books(distribution, "A") == {"available": 5_00, "pending": 10_00}
    assert books(distribution, "B") == {"available": 10_00}
    # points: A's 699.00 pack at the initial NAV 1 mints 699 × 0.30 × 0.70 = 146.79 points; A1's next one at NAV
    # 209.70 / 146.79 mints 102.75. Each close releases floor(points × 0.002): A 0.29 then 0.29, A1 0.20 then 0.20.
    points = replay({"points": MIXED["points"]}, story())
    minted = {t.order: a for t in points.ledger.transactions if t.rule == "points_earned"
              for (owner, book), a in t.entries if book == "points" and not owner.startswith("@")}
    assert (minted["g-a"], minted["g-A1"]) == (146_79, 102_75)
    assert (points.balance("A", "points"), points.balance("A1", "points")) == (146_21, 102_35)


def test_on_the_mixed_shop_every_balance_is_the_sum_of_what_each_plan_pays_alone() -> None:
    events = story()
    mixed = replay(MIXED, events)
    alone = [replay({kind: config}, events) for kind, config in MIXED.items()]
    for member in mixed.members:
        for book in ("available", "pending", "help_fund", "points"):
            assert mixed.balance(member, book) == sum(e.balance(member, book) for e in alone), (member, book)
    assert mixed.balance("A") == 579_80 + 5_00 + alone[2].balance("A") > 584_80  # and points cash for A


def books(engine: Engine, member: str) -> dict[str, int]:
    return {book: engine.balance(member, book) for book in ("available", "pending", "help_fund")
            if engine.balance(member, book)}


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
            day = at.astimezone(DEFAULT_START.tzinfo).date()
            out.append(ev.CloseDay(at=at, day=day))
            # a close moves the clock to the day's last second: what comes next comes after it (or it is refused)
            at = max(at, dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=DEFAULT_START.tzinfo))
    return out


@settings(max_examples=40, deadline=None)
@given(steps=st.lists(step, min_size=5, max_size=40))
def test_no_plan_changes_another_after_any_sequence(steps: list[tuple[Any, ...]]) -> None:
    events = random_events(steps)
    mixed = replay(MIXED, events)
    for kind, config in MIXED.items():
        alone = replay({kind: config}, events)
        assert postings_of(mixed, kind) == postings_of(alone, kind), kind
    # and the plans did their work, each on its products (so that the equality above is not between two nothings):
    # every pay is accepted (members pay only once joined, order ids are fresh, the clock only goes on); chain21
    # puts 5% of every GIFT order into its pool, points mints on every order, distribution pays only on TEA
    paid = {e.order: e.sku for e in events if isinstance(e, ev.Pay)}
    assert [events[seq - 1] for seq, _r in mixed.refused if isinstance(events[seq - 1], ev.Pay)] == []
    orders = {kind: {t.order for t in mixed.ledger.transactions if t.plan == kind and t.order} for kind in MIXED}
    assert orders["chain21"] == {o for o, sku in paid.items() if sku == "GIFT"}
    assert orders["points"] == set(paid)
    assert orders["distribution"] <= {o for o, sku in paid.items() if sku == "TEA"}
