"""Many clients at once against a real worker (``service.worker.Worker`` in a thread, committing for real): members
paying through the webhook, an operator refunding, members withdrawing, and one withdrawal sent six times at once
with the same Idempotency-Key. Afterwards the ledger balances, ``verify`` finds nothing, every order is sold once,
no withdrawal took more than was available when it was applied, and the repeated request is one event.
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from api_client import Caller, Register, Response, buy, make_operator, make_shop, signed_webhook
from django.db import connections
from django.db.models import Count, Sum
from django.utils import timezone

from liandong.service.store.models import (
    Balance,
    EventOutcome,
    LedgerEntry,
    LedgerTransaction,
    LoggedEvent,
    OrderState,
    WorkerPosition,
)
from liandong.service.verify import verify
from liandong.service.worker import Worker
from liandong.web.api.models import IdempotentRequest

pytest_plugins = ["api_fixtures"]

AGENTS = 4          # members under the root, each an agent
RECRUITS = 5        # referrals of each agent, paying during the run
WITHDRAW_TRIES = 8  # withdrawal requests per agent during the run


def in_thread(target: Callable[[], None], errors: list[BaseException]) -> threading.Thread:
    """A thread that closes its database connection when done and keeps what it raised."""

    def run() -> None:
        try:
            target()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    return threading.Thread(target=run)


@pytest.fixture
def running_worker(transactional_db: None) -> Iterator[Worker]:
    worker, stop, errors = Worker(), threading.Event(), list[BaseException]()
    thread = in_thread(lambda: worker.run_forever(stop, idle_max=0.01), errors)
    thread.start()
    yield worker
    stop.set()
    thread.join(30)
    assert not thread.is_alive() and errors == []


def wait_until_applied(timeout: float = 60.0) -> None:
    deadline = timezone.now().timestamp() + timeout
    while timezone.now().timestamp() < deadline:
        last = LoggedEvent.objects.order_by("-position").values_list("position", flat=True).first() or 0
        if (WorkerPosition.objects.filter(id=1).values_list("position", flat=True).first() or 0) >= last:
            return
        threading.Event().wait(0.05)
    raise AssertionError("the worker did not apply the log in time")


@pytest.fixture
def crowd(transactional_db: None, api_settings: Any, register_member: Register) -> dict[str, Any]:
    """A root partner with AGENTS agents under it, each with RECRUITS registered referrals not yet paying;
    set up with the log applied inline, before the worker thread starts."""
    make_shop(start=timezone.now() - dt.timedelta(days=1))
    root = register_member("root")
    buy(root)
    agents = [register_member(f"agent{i}", inviter=root) for i in range(AGENTS)]
    for agent in agents:
        buy(agent)
    recruits = [register_member(f"r{i}-{j}", inviter=agent) for i, agent in enumerate(agents)
                for j in range(RECRUITS)]
    api_settings.LIANDONG_INLINE_WORKER = False
    api_settings.API_OUTCOME_WAIT_SECONDS = 10.0
    return {"root": root, "agents": agents, "recruits": recruits, "operator": make_operator()}


def test_paying_refunding_and_withdrawing_at_once_keep_the_ledger_whole(crowd: dict[str, Any],
                                                                         running_worker: Worker) -> None:
    paid: queue.Queue[str] = queue.Queue()
    errors: list[BaseException] = []
    statuses: list[int] = []

    def pay(recruits: list[Caller]) -> Callable[[], None]:
        def run() -> None:
            for recruit in recruits:
                order = recruit.post("/api/orders", {"sku": "GIFT"}).body["order"]
                r = signed_webhook(recruit, {"payment_id": f"pay-{order}", "order": order, "amount": "699.00"})
                assert r.status == 200, r.body
                paid.put(order)
        return run

    def refund() -> None:
        for _ in range(len(crowd["recruits"]) // 3):
            order = paid.get(timeout=60)
            r = crowd["operator"].post(f"/api/operator/orders/{order}/refund")
            assert r.status in (200, 202), r.body
            statuses.append(r.status)

    def withdraw(member: Caller, amount: str) -> Callable[[], None]:
        def run() -> None:
            for _ in range(WITHDRAW_TRIES):
                r = member.post("/api/withdrawals", {"payee": "alipay:13800000000", "amount": amount})
                assert r.status in (201, 202, 422), r.body
                statuses.append(r.status)
        return run

    recruits = crowd["recruits"]
    threads = [in_thread(pay(recruits[k::3]), errors) for k in range(3)]
    threads.append(in_thread(refund, errors))
    threads += [in_thread(withdraw(agent, "60.00"), errors) for agent in crowd["agents"]]
    threads.append(in_thread(withdraw(crowd["root"], "150.00"), errors))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    wait_until_applied()

    assert_ledger_whole()
    report = verify()
    assert report.ok, report.differences
    refunded = set(OrderState.objects.filter(refunded=True).values_list("order", flat=True))
    assert len(refunded) == len(recruits) // 3
    sales = dict(LedgerTransaction.objects.filter(rule="sale").values_list("order").annotate(n=Count("id")))
    assert sales == {order: 2 if order in refunded else 1 for order in OrderState.objects.values_list("order",
                                                                                                      flat=True)}
    rewarded = (LedgerTransaction.objects.filter(rule="direct_reward", reverses__isnull=True).values("order")
                .annotate(n=Count("id")).filter(n__gt=1))
    assert list(rewarded) == []  # no order rewarded twice
    assert OrderState.objects.count() == 1 + AGENTS + len(recruits)
    assert_no_withdrawal_above_available()
    assert 422 in statuses and 201 in statuses  # some withdrawals were refused, some accepted


def test_the_same_key_sent_at_once_is_one_event(crowd: dict[str, Any], running_worker: Worker) -> None:
    root: Caller = crowd["root"]
    barrier, answers, errors = threading.Barrier(6), list[Response](), list[BaseException]()

    def send() -> None:
        barrier.wait()
        answers.append(root.post("/api/withdrawals", {"payee": "alipay:1", "amount": "10.00"}, key="same-key-at-once"))

    threads = [in_thread(send, errors) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    wait_until_applied()
    assert len({(a.status, str(a.body)) for a in answers}) == 1, [(a.status, a.body) for a in answers]
    assert answers[0].status == 201
    assert LoggedEvent.objects.filter(verb="withdraw", key__endswith=":same-key-at-once").count() == 1
    assert IdempotentRequest.objects.filter(key="same-key-at-once").count() == 1
    assert root.get("/api/me/balances").body["withdrawing"] == "10.00"


def assert_ledger_whole() -> None:
    unbalanced = (LedgerEntry.objects.values("transaction_id", "unit").annotate(total=Sum("amount"))
                  .exclude(total=0))
    assert list(unbalanced) == []
    cash = Balance.objects.exclude(book__in=["coupons", "coupons_issued"]).aggregate(total=Sum("amount"))["total"]
    assert cash == 0
    for balance in Balance.objects.all():
        entries = LedgerEntry.objects.filter(owner=balance.owner, book=balance.book).aggregate(t=Sum("amount"))["t"]
        assert entries == balance.amount, (balance.owner, balance.book)


def assert_no_withdrawal_above_available() -> None:
    """A withdrawal's entry on ``available`` leaves the balance it found minus the amount: never below zero."""
    taken = LedgerEntry.objects.filter(transaction__rule="withdrawal", book="available", amount__lt=0)
    assert taken.exists()
    assert [(e.owner, e.amount, e.balance_after) for e in taken if e.balance_after < 0] == []
    refused = EventOutcome.objects.filter(applied=False, event__verb="withdraw")
    assert {(o.refusal or {}).get("code") for o in refused} <= {"withdrawal_above_available"}
