"""``liandong verify``: replay the whole log in memory and compare what the database holds with what it should.

The replay uses the worker's own conversion (``service.feed.apply_logged``) on a fresh engine built from ShopSetup,
up to the worker's committed position, and compares, event by event and then at the end:

- each outcome: applied or refused, and a refusal's code, field and value; the config version; the facts;
- each transaction (id, event, rule, plan, order, source, reverses, ref) and its entries in order, each with
  ``balance_after`` recomputed here from zero;
- every balance, and every projection row (members, products, orders, withdrawals, campaigns), and the members'
  monthly statement totals (``service.statement_months``, built here from the replayed entries), and the shop's
  daily figures (``service.daily_figures``, built here from the replayed events and entries);
- at each close, the day's proof of liabilities (``service.liability_days``): every member's leaf amounts, and the
  root and sums those amounts give under the stored salts.

Example output: ``1042 events, 5210 entries verified`` (exit 0), or (exit 1)::

    transaction 88: entry 2: expected A/available +300.00 (balance after 300.00), the database has +240.00 (…)
    balance A/available: expected 300.00, the database has 240.00
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..engine.core import Engine
from ..engine.events import CloseDay
from ..engine.ledger import NON_CASH_UNITS, Account, Transaction
from ..engine.money import format_fen
from ..engine.registry import new_engine
from .daily_figures import DayFigures, RankMemory, ranked_adapters
from .feed import Applied, apply_logged, jsonable, shop_of
from .liability_days import compare_day, unreplayed_days
from .projections import (
    all_campaign_ids,
    campaign_row,
    member_row,
    module_rows,
    order_row,
    product_row,
    withdrawal_row,
)
from .statement_months import MonthTotals
from .store.models import (
    Balance,
    CampaignState,
    DailyFigure,
    EventOutcome,
    LedgerEntry,
    LedgerTransaction,
    LoggedEvent,
    MemberState,
    ModuleState,
    OrderState,
    ProductState,
    ReferralCount,
    ShopSetup,
    StatementMonth,
    WithdrawalState,
    WorkerPosition,
)

CHUNK = 5000


@dataclass
class Report:
    events: int = 0
    transactions: int = 0
    entries: int = 0
    pending: int = 0
    differences: list[str] = field(default_factory=list)
    shown_max: int = 200
    hidden: int = 0

    def differ(self, text: str) -> None:
        if len(self.differences) < self.shown_max:
            self.differences.append(text)
        else:
            self.hidden += 1

    @property
    def ok(self) -> bool:
        return not self.differences

    def summary(self) -> str:
        text = f"{self.events} events, {self.entries} entries verified"
        if self.pending:
            text += f" ({self.pending} pending events not applied yet)"
        return text


def verify(using: str = "default") -> Report:
    report = Report()
    setup = ShopSetup.objects.using(using).filter(id=1).first()
    mark = WorkerPosition.objects.using(using).filter(id=1).first()
    up_to = mark.position if mark is not None else 0
    report.pending = LoggedEvent.objects.using(using).filter(position__gt=up_to).count()
    if setup is None:
        if up_to:
            report.differ(f"WorkerPosition is {up_to} but there is no ShopSetup to replay from")
        return report
    engine = new_engine(shop_of(setup.plans, setup.timezone, setup.start))
    running: dict[Account, int] = {}
    months = MonthTotals(engine.tz)
    figures = DayFigures(engine.tz, RankMemory(ranked_adapters(engine)))
    closes: set[int] = set()
    after = 0
    while after < up_to:
        rows = list(LoggedEvent.objects.using(using).filter(position__gt=after, position__lte=up_to)
                    .order_by("position").values_list("position", "verb", "payload", "created_at")[:CHUNK])
        if not rows:
            break
        applied = []
        for row in rows:
            item = apply_logged(engine, *row, setup.auto_close_days)
            figures.observe(engine, item)
            applied.append(item)
            if item.applied and isinstance(item.event, CloseDay):  # the day's proof of liabilities
                closes.add(item.position)
                for problem in compare_day(engine, item.event.day, item.position, using):
                    report.differ(problem)
        engine.ledger.transactions.clear()
        _compare_outcomes(applied, using, report)
        _compare_transactions(applied, running, months, using, report, figures)
        report.events += len(rows)
        after = rows[-1][0]
    _compare_extra_rows(up_to, engine, using, report)
    for problem in unreplayed_days(closes, up_to, using):
        report.differ(problem)
    if mark is not None and mark.transactions != engine.ledger.count:
        report.differ(f"WorkerPosition counts {mark.transactions} transactions, the replay {engine.ledger.count}")
    _compare_balances(engine, using, report)
    _compare_projections(engine, using, report)
    _compare_referral_counts(engine, using, report)
    _compare_statement_months(months, using, report)
    _compare_daily_figures(figures, using, report)
    return report


def _compare_outcomes(applied: list[Applied], using: str, report: Report) -> None:
    stored = {o.event_id: o for o in EventOutcome.objects.using(using).filter(
        event_id__gte=applied[0].position, event_id__lte=applied[-1].position)}
    for a in applied:
        o = stored.get(a.position)
        if o is None:
            report.differ(f"event {a.position}: no outcome in the database")
            continue
        expected = "applied" if a.refusal is None else f"refused ({_reason(a.refusal.to_json())})"
        actual = "applied" if o.applied else f"refused ({_reason(o.refusal or {})})"
        if expected != actual:
            report.differ(f"event {a.position}: expected {expected}, the database has {actual}")
        if o.config_version != a.config_version:
            report.differ(f"event {a.position}: expected config version {a.config_version}, "
                          f"the database has {o.config_version}")
        if jsonable(a.facts) != o.facts:
            report.differ(f"event {a.position}: expected facts {jsonable(a.facts)}, the database has {o.facts}")


def _reason(refusal: dict[str, Any]) -> str:
    return f"{refusal.get('code')} {refusal.get('field')}={refusal.get('value')!r}"


def _compare_transactions(applied: list[Applied], running: dict[Account, int], months: MonthTotals, using: str,
                          report: Report, figures: DayFigures | None = None) -> None:
    first, last = applied[0].position, applied[-1].position
    stored = {t.id: t for t in LedgerTransaction.objects.using(using).filter(event_id__gte=first,
                                                                            event_id__lte=last)}
    expected_ids = {txn.id for a in applied for txn in a.transactions}
    entries: dict[int, list[LedgerEntry]] = {}
    if expected_ids or stored:
        ids = expected_ids | set(stored)
        for entry in LedgerEntry.objects.using(using).filter(
                transaction_id__gte=min(ids), transaction_id__lte=max(ids)).order_by("id"):
            entries.setdefault(entry.transaction_id, []).append(entry)
    for a in applied:
        for txn in a.transactions:
            row = stored.pop(txn.id, None)
            if row is None:
                report.differ(f"transaction {txn.id} ({txn.rule}, event {a.position}) is not in the database")
                for account, amount in txn.entries:
                    running[account] = running.get(account, 0) + amount
                    if isinstance(txn.at, dt.datetime):
                        months.add(txn.id, txn.rule, txn.at, account[0], account[1], amount, running[account])
                        if figures is not None:
                            figures.add_entry(txn.id, txn.rule, txn.plan or "", txn.reverses,
                                              figures.day_of(txn.at), account[0], account[1], amount,
                                              running[account])
                continue
            _compare_transaction(txn, a.position, row, report)
            at = txn.at if isinstance(txn.at, dt.datetime) else row.at  # the instant the worker stamped on it
            _compare_entries(txn, entries.get(txn.id, []), running, report, months, at, figures)
            report.transactions += 1
    for tid, row in sorted(stored.items()):
        report.differ(f"transaction {tid} ({row.rule}, event {row.event_id}) is in the database but not in the replay")


def _compare_transaction(txn: Transaction, position: int, row: LedgerTransaction, report: Report) -> None:
    expected = (position, txn.rule, txn.plan or "", txn.order or "", txn.source or "", txn.reverses, txn.ref or "")
    actual = (row.event_id, row.rule, row.plan, row.order, row.source, row.reverses, row.ref)
    names = ("event", "rule", "plan", "order", "source", "reverses", "ref")
    for name, e, a in zip(names, expected, actual, strict=True):
        if e != a:
            report.differ(f"transaction {txn.id}: expected {name} {e!r}, the database has {a!r}")


def _compare_entries(txn: Transaction, rows: list[LedgerEntry], running: dict[Account, int], report: Report,
                     months: MonthTotals, at: dt.datetime, figures: DayFigures | None = None) -> None:
    """Compare a transaction's entries, and add each expected one to the monthly totals (posted at ``at``)."""
    if len(rows) != len(txn.entries):
        report.differ(f"transaction {txn.id}: expected {len(txn.entries)} entries, the database has {len(rows)}")
    day = figures.day_of(at) if figures is not None else None
    for i, (account, amount) in enumerate(txn.entries):
        running[account] = running.get(account, 0) + amount
        months.add(txn.id, txn.rule, at, account[0], account[1], amount, running[account])
        if figures is not None and day is not None:
            figures.add_entry(txn.id, txn.rule, txn.plan or "", txn.reverses, day, account[0], account[1], amount,
                              running[account])
        report.entries += 1
        if i >= len(rows):
            continue
        row = rows[i]
        unit = NON_CASH_UNITS.get(account[1], "fen")
        expected = (account[0], account[1], unit, amount, running[account])
        actual = (row.owner, row.book, row.unit, row.amount, row.balance_after)
        if expected != actual:
            report.differ(f"transaction {txn.id}: entry {i + 1}: expected {_entry(*expected)}, "
                          f"the database has {_entry(*actual)}")


def _entry(owner: str, book: str, unit: str, amount: int, after: int) -> str:
    def show(n: int) -> str:
        return format_fen(n) if unit == "fen" else f"{n} {unit}"
    sign = "+" if amount > 0 else ""
    return f"{owner}/{book} {sign}{show(amount)} (balance after {show(after)})"


def _compare_extra_rows(up_to: int, engine: Engine, using: str, report: Report) -> None:
    late = EventOutcome.objects.using(using).filter(event_id__gt=up_to).count()
    if late:
        report.differ(f"{late} outcomes are for events after the worker's position {up_to}")
    beyond = LedgerTransaction.objects.using(using).filter(id__gt=engine.ledger.count).count()
    if beyond:
        report.differ(f"{beyond} transactions have ids beyond the replay's last ({engine.ledger.count})")


def _compare_balances(engine: Engine, using: str, report: Report) -> None:
    stored = {(b.owner, b.book): b.amount for b in Balance.objects.using(using).all()}
    for account in sorted(set(stored) | set(engine.ledger.balances)):
        expected, actual = engine.ledger.balances.get(account, 0), stored.get(account, 0)
        if expected != actual:
            unit = NON_CASH_UNITS.get(account[1], "fen")
            show = format_fen if unit == "fen" else str
            report.differ(f"balance {account[0]}/{account[1]}: expected {show(expected)}, "
                          f"the database has {show(actual)}")


def _compare_projections(engine: Engine, using: str, report: Report) -> None:
    shop_reads = {row["kind"]: row for row in module_rows(engine)}
    tables: list[tuple[str, Any, str, Iterable[str], Any]] = [
        ("member", MemberState, "member", engine.members, member_row),
        ("product", ProductState, "sku", engine.products, product_row),
        ("order", OrderState, "order", engine.orders, order_row),
        ("withdrawal", WithdrawalState, "withdrawal", engine.withdrawals, withdrawal_row),
        ("campaign", CampaignState, "campaign", all_campaign_ids(engine), campaign_row),
        ("module", ModuleState, "kind", list(shop_reads), lambda _engine, kind: shop_reads[kind]),
    ]
    for label, model, key, ids, build in tables:
        expected = {i: build(engine, i) for i in ids}
        stored = {row[key]: row for row in model.objects.using(using).values()}
        for ident in sorted(set(expected) | set(stored)):
            e, s = expected.get(ident), stored.get(ident)
            if e is None:
                report.differ(f"{label} {ident} is in the database but not in the replay")
                continue
            if s is None:
                report.differ(f"{label} {ident} is in the replay but not in the database")
                continue
            for name, value in e.items():
                if isinstance(value, (dict, list)):
                    value = jsonable(value)
                if s.get(name) != value:
                    report.differ(f"{label} {ident}: expected {name} {value!r}, the database has {s.get(name)!r}")


def _compare_referral_counts(engine: Engine, using: str, report: Report) -> None:
    """Each member's referrals and subtree size (``ReferralCount``) against the replay's tree; a member who referred
    nobody may have no row (or one with zeros, after its referrals were moved away)."""
    stored = {m: (r, d, t) for m, r, d, t in ReferralCount.objects.using(using).values_list(
        "member", "referrals", "descendants", "team_size")}
    team_size = engine.ask("team_size")
    if engine.recounted is None:
        engine.track_referral_counts()  # the replay's tree, counted once
    for member in sorted(set(engine.members) | set(stored)):
        m = engine.members.get(member)
        expected = ((len(m.children), m.descendants, team_size(engine, member) if team_size else 0)
                    if m is not None else None)
        actual = stored.get(member, (0, 0, 0))
        if expected is None:
            report.differ(f"referral count of {member} is in the database but {member} is not in the replay")
        elif expected != actual:
            report.differ(f"referral count of {member}: expected {expected[0]} referrals, {expected[1]} in its "
                          f"tree and a team of {expected[2]}, the database has {actual[0]}, {actual[1]} and "
                          f"{actual[2]}")


def _compare_statement_months(months: MonthTotals, using: str, report: Report) -> None:
    """The members' monthly totals (``StatementMonth``) against those of the replayed entries."""
    expected = {(owner, book, month, rule): tuple(values)
                for (owner, book, month, rule), values in months.totals.items()}
    stored = {(row[0], row[1], row[2], row[3]): tuple(row[4:]) for row in StatementMonth.objects.using(using)
              .values_list("owner", "book", "month", "rule", "amount", "entries", "last_transaction",
                           "balance_after")}
    names = ("amount", "entries", "last transaction", "balance after")
    for key in sorted(set(expected) | set(stored)):
        e, s = expected.get(key), stored.get(key)
        where = f"statement month {key[0]}/{key[1]} {key[2]:%Y-%m} {key[3]}"
        if e is None:
            report.differ(f"{where} is in the database but not in the replay")
        elif s is None:
            report.differ(f"{where} is in the replay but not in the database")
        else:
            for name, want, have in zip(names, e, s, strict=True):
                if want != have:
                    report.differ(f"{where}: expected {name} {want}, the database has {have}")


def _compare_daily_figures(figures: DayFigures, using: str, report: Report) -> None:
    """The shop's daily figures (``DailyFigure``) against those of the replayed events and entries (a row adding
    nothing is the same as no row)."""
    expected = {key: tuple(values) for key, values in figures.totals.items() if any(values)}
    stored = {(row[0], row[1], row[2], row[3]): (row[4], row[5]) for row in DailyFigure.objects.using(using)
              .values_list("day", "figure", "plan", "key", "amount", "count") if row[4] or row[5]}
    for key in sorted(set(expected) | set(stored)):
        e, s = expected.get(key), stored.get(key)
        where = f"daily figure {key[0]:%Y-%m-%d} {key[1]} {key[2]}/{key[3]}"
        if e is None:
            report.differ(f"{where} is in the database but not in the replay")
        elif s is None:
            report.differ(f"{where} is in the replay but not in the database")
        elif e != s:
            report.differ(f"{where}: expected amount {e[0]} count {e[1]}, the database has amount {s[0]} "
                          f"count {s[1]}")
