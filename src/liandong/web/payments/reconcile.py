"""The providers' daily bills matched against the ledger, to the fen.

A bill is the CSV each provider offers for a day: WeChat Pay's trade bill (交易账单, ``bill_type=ALL``: every value
prefixed with a backquote, then a summary), or Alipay's 业务明细 (GBK, ``#`` comment lines around the table).
Each line is a payment or a refund of one of our orders (``out_trade_no``). The ledger's side, for the days the
bill covers (the shop's time zone, Asia/Shanghai): the pay events logged from that provider's notifications (keyed
``payment:<provider>:<transaction id>``) and the refunds of those orders. Every line is matched by kind and order:

- ``missing_in_ledger``: the provider took (or refunded) money we have no event for;
- ``missing_in_bill``: we logged a payment or refund the provider does not list;
- ``amount_differs``: both have it, the amounts differ (by as little as a fen).

Payouts are not in the trade bills (they are in the providers' fund-flow bills, not read yet): docs/payments.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal
from zoneinfo import ZoneInfo

from ...engine.money import format_fen, parse_yuan
from ...service.store.models import LoggedEvent
from ..api.models import PendingOrder

SHOP_ZONE = ZoneInfo("Asia/Shanghai")
Kind = Literal["payment", "refund"]


class BillError(ValueError):
    """A file that is not a bill Liandong reads, with the line at fault."""


@dataclass(frozen=True)
class Line:
    kind: Kind
    order: str
    amount: int  # fen
    reference: str  # the provider's transaction id, or refund number
    day: dt.date


@dataclass
class Bill:
    provider: str
    lines: list[Line]

    @property
    def days(self) -> set[dt.date]:
        return {line.day for line in self.lines}


@dataclass
class Mismatch:
    kind: Kind
    order: str
    bill: int | None
    ledger: int | None
    reference: str

    @property
    def problem(self) -> str:
        if self.ledger is None:
            return "missing_in_ledger"
        if self.bill is None:
            return "missing_in_bill"
        return "amount_differs"

    def describe(self) -> str:
        return (f"{self.problem}: {self.kind} of order {self.order}: bill {shown(self.bill)}, ledger "
                f"{shown(self.ledger)} ({self.reference})")


def shown(amount: int | None) -> str:
    """An amount as yuan, or a dash for none."""
    return "-" if amount is None else format_fen(amount)


@dataclass
class Reconciliation:
    provider: str
    days: list[dt.date]
    matched: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.mismatches


def _text(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):  # WeChat's bill is UTF-8, Alipay's GBK
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise BillError("neither UTF-8 nor GBK text")


def _day(value: str, where: str) -> dt.date:
    try:
        return dt.datetime.strptime(value.strip()[:19], "%Y-%m-%d %H:%M:%S").date()
    except ValueError:
        raise BillError(f"{where}: {value!r} is not a time as YYYY-MM-DD HH:MM:SS") from None


def _fen(value: str, where: str) -> int:
    try:
        return abs(parse_yuan(value.strip()))
    except Exception:
        raise BillError(f"{where}: {value!r} is not an amount") from None


def parse_bill(data: bytes) -> Bill:
    """A WeChat Pay trade bill or an Alipay 业务明细, told apart by their header."""
    text = _text(data)
    rows = list(csv.reader(io.StringIO(text)))
    for number, row in enumerate(rows):
        head = [cell.strip() for cell in row]
        if "微信订单号" in head and "商户订单号" in head:
            return _wechat(rows[number + 1:], head, number + 2)
        if "支付宝交易号" in head and "商户订单号" in head:
            return _alipay(rows[number + 1:], head, number + 2)
    raise BillError("no header of a WeChat Pay trade bill (微信订单号) or an Alipay 业务明细 (支付宝交易号)")


def _wechat(rows: list[list[str]], head: list[str], first: int) -> Bill:
    col = {name: i for i, name in enumerate(head)}
    needed = ("交易时间", "微信订单号", "商户订单号", "交易状态", "应结订单金额", "商户退款单号", "退款金额")
    if missing := [name for name in needed if name not in col]:
        raise BillError(f"WeChat Pay bill: no column {', '.join(missing)}")
    lines = []
    for number, row in enumerate(rows, first):
        cells = [cell.strip().lstrip("`") for cell in row]
        if not cells or not cells[0] or cells[0].startswith("总"):  # the summary that ends the bill
            break
        where = f"line {number}"
        if len(cells) < len(head):
            raise BillError(f"{where}: {len(cells)} columns, the header has {len(head)}")
        state, day = cells[col["交易状态"]], _day(cells[col["交易时间"]], where)
        if state == "REFUND":
            lines.append(Line("refund", cells[col["商户订单号"]], _fen(cells[col["退款金额"]], where),
                              cells[col["商户退款单号"]], day))
        elif state == "SUCCESS":
            lines.append(Line("payment", cells[col["商户订单号"]], _fen(cells[col["应结订单金额"]], where),
                              cells[col["微信订单号"]], day))
    return Bill("wechatpay", lines)


def _alipay(rows: list[list[str]], head: list[str], first: int) -> Bill:
    col = {name: i for i, name in enumerate(head)}
    amount = next((name for name in head if name.startswith("订单金额")), None)
    needed = ("支付宝交易号", "商户订单号", "业务类型", "完成时间")
    if missing := [name for name in needed if name not in col] + ([] if amount else ["订单金额（元）"]):
        raise BillError(f"Alipay bill: no column {', '.join(missing)}")
    assert amount is not None
    lines = []
    for number, row in enumerate(rows, first):
        cells = [cell.strip() for cell in row]
        if not cells or cells[0].startswith("#"):  # 业务明细列表结束, the totals
            break
        where = f"line {number}"
        if len(cells) < len(head):
            raise BillError(f"{where}: {len(cells)} columns, the header has {len(head)}")
        kind = {"交易": "payment", "退款": "refund"}.get(cells[col["业务类型"]])
        if kind is None:
            continue
        reference = cells[col["支付宝交易号"]]
        if kind == "refund" and "退款批次号/请求号" in col:
            reference = cells[col["退款批次号/请求号"]] or reference
        lines.append(Line("payment" if kind == "payment" else "refund", cells[col["商户订单号"]],
                          _fen(cells[col[amount]], where), reference, _day(cells[col["完成时间"]], where)))
    return Bill("alipay", lines)


def ledger_lines(provider: str, days: Iterable[dt.date]) -> list[Line]:
    """The payments logged from ``provider``'s notifications on ``days``, and the refunds of those orders then."""
    days = set(days)
    if not days:
        return []
    start = dt.datetime.combine(min(days), dt.time(), SHOP_ZONE)
    end = dt.datetime.combine(max(days) + dt.timedelta(days=1), dt.time(), SHOP_ZONE)
    prefix = f"payment:{provider}:"
    paid = {p.pay_event: p for p in PendingOrder.objects.filter(pay_event__isnull=False)
            if p.pay_event is not None}
    lines: list[Line] = []
    by_order: dict[str, PendingOrder] = {}
    for event in LoggedEvent.objects.filter(key__startswith=prefix).order_by("position"):
        pending = paid.get(event.position)
        if pending is None:
            continue
        by_order[pending.order] = pending
        day = event.created_at.astimezone(SHOP_ZONE).date()
        if start.date() <= day < end.date() and day in days:
            lines.append(Line("payment", pending.order, pending.amount, event.key.removeprefix(prefix), day))
    for event in LoggedEvent.objects.filter(verb="refund", created_at__gte=start, created_at__lt=end):
        order = str(event.payload.get("order", ""))
        day = event.created_at.astimezone(SHOP_ZONE).date()
        if order in by_order and day in days:
            lines.append(Line("refund", order, by_order[order].amount, f"event {event.position}", day))
    return lines


def reconcile(bill: Bill) -> Reconciliation:
    """Match the bill's lines with the ledger's, by kind and order, to the fen."""
    result = Reconciliation(bill.provider, sorted(bill.days))
    ours = {(line.kind, line.order): line for line in ledger_lines(bill.provider, bill.days)}
    theirs = {(line.kind, line.order): line for line in bill.lines}
    for key in sorted(theirs.keys() | ours.keys()):
        bill_line, ledger_line = theirs.get(key), ours.get(key)
        if bill_line and ledger_line and bill_line.amount == ledger_line.amount:
            result.matched += 1
            continue
        either = bill_line or ledger_line
        reference = either.reference if either else ""
        result.mismatches.append(Mismatch(key[0], key[1], bill_line.amount if bill_line else None,
                                          ledger_line.amount if ledger_line else None, reference))
    return result
