"""收益 (earnings): the member's money as the ledger holds it: available, pending (and the day each pending amount
settles: the core's member read ``reads["core"]``), help fund, withdrawing, withdrawn, and a debt when available is
below zero; the statement newest first, a page at a time (keyset on the entry), filtered by kind (the ledger rule)
and month, every line with its cause in words (the rule's label, the order, the buyer by display name), the signed
amount and the balance after it; the monthly bill (``/earnings/bill``) and the statement as CSV
(``/earnings/statement.csv``). Also an order's page for a member it paid who is not its buyer
(``order_for_earner``, from ``/orders/<order>``).

Every figure is a read of what the worker committed (``reads.balances``, ``reads.money_statement_page``,
``reads.monthly_bill``, ``reads.order_earnings``): nothing here computes money beyond showing it.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from ....engine.labels import BOOKS, RULES, book_label, label, note
from ....engine.money import format_fen, parse_yuan
from ...accounts.models import MemberLogin
from ...api import reads
from ...api.withdrawals import csv_cell
from ..people import display_names
from .common import member_of, member_page
from .holds import held_rewards
from .me import chain21_terms

#: Lines on one page of the statement.
PAGE_SIZE = 20
#: Lines of the CSV download read (and their buyers named) per query.
CSV_CHUNK = 2000
MONTH = re.compile(r"(\d{4})-(\d{2})", re.ASCII)
CURSOR = re.compile(r"[0-9]{1,18}", re.ASCII)
RULE_NAME = re.compile(r"[a-z0-9_]{1,64}", re.ASCII)


def lang() -> str:
    return get_language() or "zh-hans"


class BadQuery(ValueError):
    def __init__(self, field: str, value: str, why: str) -> None:
        super().__init__(f"{field} {value!r}: {why}")
        self.field, self.value, self.why = field, value, why


def shop_tz() -> dt.tzinfo:
    return reads.wording_engine().tz


def month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The first instant of ``month`` (its first day) and of the next, in the shop's time zone."""
    tz = shop_tz()
    start = dt.datetime(month.year, month.month, 1, tzinfo=tz)
    following = dt.date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return start, dt.datetime(following.year, following.month, 1, tzinfo=tz)


def parse_month(raw: str | None) -> dt.date | None:
    if raw is None or raw == "":
        return None
    found = MONTH.fullmatch(raw)
    if found is None or not 1 <= int(found.group(2)) <= 12 or not 1970 <= int(found.group(1)) <= 9999:
        raise BadQuery("month", raw[:20], _("not a month written as YYYY-MM, e.g. 2026-03"))
    return dt.date(int(found.group(1)), int(found.group(2)), 1)


def this_month() -> dt.date:
    return reads.today().replace(day=1)


@dataclass(frozen=True)
class StatementQuery:
    """What the address asks of the statement: a kind (ledger rule), a month, and the page (an entry to start after
    or before)."""

    kind: str | None
    month: dt.date | None
    after: int | None
    before: int | None

    @classmethod
    def parse(cls, params: QueryDict) -> StatementQuery:
        kind = params.get("kind") or None
        if kind is not None and (not RULE_NAME.fullmatch(kind) or kind not in RULES):
            raise BadQuery("kind", kind[:40], _("not a kind of statement line"))
        month = parse_month(params.get("month"))
        after, before = cls._cursor(params, "after"), cls._cursor(params, "before")
        if after is not None and before is not None:
            raise BadQuery("before", str(before), _("not together with after"))
        return cls(kind, month, after, before)

    @staticmethod
    def _cursor(params: QueryDict, name: str) -> int | None:
        raw = params.get(name)
        if raw is None or raw == "":
            return None
        if not CURSOR.fullmatch(raw):
            raise BadQuery(name, raw[:20], _("not a page of this statement"))
        return int(raw)

    def bounds(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        return month_bounds(self.month) if self.month is not None else (None, None)

    def filters(self, **cursor: int) -> str:
        params: dict[str, Any] = {}
        if self.kind:
            params["kind"] = self.kind
        if self.month:
            params["month"] = self.month.strftime("%Y-%m")
        params.update(cursor)
        return "?" + urlencode(params) if params else ""


def bad_query(request: HttpRequest, bad: BadQuery, back: str) -> HttpResponse:
    return render(request, "pages/bad_query.html", {"tab": "earnings", "field": bad.field, "value": bad.value,
                                                    "why": bad.why, "back": back}, status=400)


class Wording:
    """The words of statement lines in the page's language and the shop's time zone, each rule's label, book label
    and note worded once however many lines share them (a download words thousands of lines)."""

    def __init__(self) -> None:
        self.lang, self.tz = lang(), shop_tz()
        self._labels: dict[str, str] = {}
        self._books: dict[str, str] = {}
        self._notes: dict[tuple[str, str | None], str] = {}

    def label(self, rule: str) -> str:
        if rule not in self._labels:
            self._labels[rule] = label(rule, self.lang)
        return self._labels[rule]

    def book(self, book: str) -> str:
        if book not in self._books:
            self._books[book] = book_label(book, self.lang)
        return self._books[book]

    def note(self, rule: str, ref: str | None) -> str:
        key = (rule, ref)
        if key not in self._notes:
            self._notes[key] = note(rule, ref, self.lang)
        return self._notes[key]


def cause(line: dict[str, Any], member: str, names: dict[str, str], words: Wording) -> dict[str, Any]:
    """A statement line in the page's words: the rule's label (reversed or not), the book it moved, the order and
    the member whose purchase caused it (by display name; not oneself), and the rule's note."""
    buyer = line["source"] if line["source"] and line["source"] != member else None
    return {**line, "label": words.label(line["rule"]), "book_label": words.book(line["book"]),
            "buyer": names.get(buyer, "") if buyer else "",
            "note": words.note(line["rule"], line["ref"]) if line["reverses"] is None else "",
            "at": line["at"].astimezone(words.tz)}


def named_lines(lines: list[dict[str, Any]], member: str, words: Wording | None = None) -> list[dict[str, Any]]:
    """The lines in the page's words, every buyer's display name read in one query."""
    names = display_names({line["source"] for line in lines if line["source"] and line["source"] != member})
    words = words or Wording()
    return [cause(line, member, names, words) for line in lines]


def pending_schedule(member: str) -> list[dict[str, Any]]:
    """When each pending amount settles (the core's member read): its day, the amount, how many rewards, and
    whether that day's close is still to come or overdue (then it settles at the next close)."""
    read = reads.plan_read(reads.member_state(member), "core")
    today = reads.today()
    out = []
    for item in read.get("pending_settles", []):
        day = dt.date.fromisoformat(item["day"])
        out.append({"day": day, "amount": item["amount"], "rewards": int(item["rewards"]), "overdue": day < today})
    return out


def kinds(member: str) -> list[dict[str, str]]:
    words = lang()
    return sorted(({"rule": rule, "label": label(rule, words)} for rule in reads.statement_rules(member)),
                  key=lambda k: k["label"])


@require_GET
@member_page
def earnings(request: HttpRequest) -> HttpResponse:
    member = member_of(request)
    try:
        asked = StatementQuery.parse(request.GET)
    except BadQuery as bad:
        return bad_query(request, bad, request.path)
    start, end = asked.bounds()
    page = reads.money_statement_page(member, after=asked.after, before=asked.before, limit=PAGE_SIZE,
                                      rule=asked.kind, start=start, end=end)
    balances = reads.balances(member)
    available = parse_yuan(balances["available"])
    month = asked.month or this_month()
    context = {
        "tab": "earnings", "balances": balances, "debt": max(-available, 0),
        "show_help_fund": chain21_terms() is not None or balances["help_fund"] != "0.00",
        "schedule": pending_schedule(member), "lines": named_lines(page["lines"], member),
        "kinds": kinds(member), "kind": asked.kind, "month": asked.month.strftime("%Y-%m") if asked.month else "",
        "filtered": asked.kind is not None or asked.month is not None,
        "paged": asked.after is not None or asked.before is not None,
        "next": asked.filters(after=page["next_after"]) if page["next_after"] is not None else None,
        "prev": asked.filters(before=page["prev_before"]) if page["prev_before"] is not None else None,
        "csv": asked.filters(), "bill_month": month.strftime("%Y-%m"), "shop_tz": shop_tz(),
        "shopping_fund": shopping_fund(member),
        "held_rewards": held_rewards(member),  # the fraud holds (views/holds.py)
    }
    return render(request, "pages/earnings.html", context)


def shopping_fund(member: str) -> dict[str, Any] | None:
    """The member's shopping funds from group-buy wins (the group-buy module's member read): locked in all, and
    each fund's original, unlocked and remaining amounts and what its next step unlocks; None without any."""
    read = reads.plan_read(reads.member_state(member), "group_buy")
    if not read.get("locked_funds"):
        return None
    funds = [{"id": fund_id, **fund} for fund_id, fund in read["locked_funds"].items()]
    return {"locked": read.get("locked_fund"), "funds": funds}


# --- the monthly bill ----------------------------------------------------------------------------------------------


@require_GET
@member_page
def bill(request: HttpRequest) -> HttpResponse:
    member = member_of(request)
    try:
        month = parse_month(request.GET.get("month")) or this_month()
    except BadQuery as bad:
        return bad_query(request, bad, request.path)
    found = reads.monthly_bill(member, month)
    words = lang()
    books = [{**book, "label": book_label(book["book"], words),
              "totals": [{**t, "label": label(t["rule"], words)} for t in book["totals"]]}
             for book in found["books"]]
    earlier = (month - dt.timedelta(days=1)).replace(day=1)
    later = (month + dt.timedelta(days=32)).replace(day=1)
    context = {"tab": "earnings", "month": month, "books": books, "month_text": month.strftime("%Y-%m"),
               "earlier": earlier.strftime("%Y-%m"),
               "later": later.strftime("%Y-%m") if later <= this_month() else None,
               "statement": "?" + urlencode({"month": month.strftime("%Y-%m")})}
    return render(request, "pages/earnings_bill.html", context)


# --- the statement as CSV --------------------------------------------------------------------------------------------


#: The layout of the CSV's lines (columns, how a time, an amount, a cell are written): change it with the layout,
#: so that no text kept in the cache (``statement_csv_body``) is served in an older one.
CSV_LAYOUT = 1
#: How long the cache keeps a statement's CSV text after its last download that added lines.
CSV_CACHE_SECONDS = 7 * 24 * 3600
#: Members named per query when the kept text's names are checked.
NAMES_CHUNK = 2000


def csv_header(words: Wording) -> str:
    """The byte-order mark (so Excel reads the Chinese as UTF-8) and the header, in the page's language."""
    return "\ufeff" + csv_text([[csv_cell(cell) for cell in (
        _("Time"), _("Kind"), _("Order"), _("From"), _("Account"), _("Amount (yuan)"), _("Balance after (yuan)"),
        _("Note"))]])


def csv_text(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()


def csv_cache_key(member: str, asked: StatementQuery, words: Wording) -> str:
    """The cache key of the text of ``member``'s lines under ``asked``'s filters, in ``words``: it holds everything
    a line's text depends on besides the line itself and its buyer's name: the layout, the language, the shop's
    time zone, and every rule's label and note and every book's label as the catalogue words them now (a changed
    translation is another key)."""
    wording = [CSV_LAYOUT, words.lang, str(words.tz), _("reversed"),
               *((rule, words.label(rule), note(rule, "{ref}", words.lang)) for rule in sorted(RULES)),
               *((book, words.book(book)) for book in sorted(BOOKS))]
    digest = hashlib.sha256(repr((member, asked.kind, asked.month, wording)).encode()).hexdigest()
    return f"liandong:statement-csv:{digest}"


def current_names(members: Iterable[str]) -> dict[str, str]:
    ids = sorted(members)
    names: dict[str, str] = {}
    for at in range(0, len(ids), NAMES_CHUNK):
        names.update(display_names(ids[at:at + NAMES_CHUNK]))
    return names


def names_unchanged(kept: dict[str, str]) -> bool:
    """Whether each member in ``kept`` still has the display name kept for it. Most buyers have a login, so first
    the database counts the (member, username) pairs that still hold, in one query per ``NAMES_CHUNK`` (no row
    comes back: a text of a thousand buyers is checked without building a thousand objects); only when some do
    not (a member renamed, or named "Member No. 12" for want of a login) are the names read and compared."""
    pairs = list(kept.items())
    login, user = MemberLogin._meta.db_table, get_user_model()._meta.db_table
    holding = 0
    joined = (f'SELECT COUNT(*) FROM "{login}" l JOIN "{user}" u ON u."id" = l."user_id" '
              'WHERE (l."member", u."username")')
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # two arrays, unnested into pairs: two parameters, not thousands
            cursor.execute(f"{joined} IN (SELECT * FROM unnest(%s::text[], %s::text[]))",
                           [list(kept), list(kept.values())])
            holding = cursor.fetchone()[0]
        else:
            for at in range(0, len(pairs), NAMES_CHUNK):
                part = pairs[at:at + NAMES_CHUNK]
                cursor.execute(f'{joined} IN (VALUES {", ".join(["(%s, %s)"] * len(part))})',
                               [value for pair in part for value in pair])
                holding += cursor.fetchone()[0]
    return holding == len(pairs) or current_names(kept) == kept


def statement_csv_body(member: str, asked: StatementQuery) -> bytes:
    """The statement's CSV (UTF-8): the header, then every line newest first; money as two-decimal strings.

    A line never changes once written (the ledger is append-only, committed in entry order by one worker), so the
    cache keeps the text of the lines up to the newest entry it covers, with the buyers' names it shows; a download
    reads only the entries after that one (none, most times), words them, and puts them before the kept text. The
    kept names are checked each time (``names_unchanged``): if one changed (an operator renamed a member), the whole
    text is worded again. The result is byte for byte the text worded from scratch."""
    words = Wording()
    key = csv_cache_key(member, asked, words)
    kept = cache.get(key)
    if kept is not None and not names_unchanged(kept[1]):
        kept = None
    newest, names, older = kept if kept is not None else (None, {}, b"")
    start, end = asked.bounds()
    parts: list[str] = []
    chunk: list[dict[str, Any]] = []
    latest: int | None = None
    for line in reads.money_statement_all(member, rule=asked.kind, start=start, end=end, chunk=CSV_CHUNK,
                                          newer_than=newest):
        latest = line["entry"] if latest is None else latest
        chunk.append(line)
        if len(chunk) == CSV_CHUNK:
            parts.append(csv_text(csv_cells(chunk, member, words, names)))
            chunk = []
    parts.append(csv_text(csv_cells(chunk, member, words, names)))
    lines = "".join(parts).encode() + (zlib.decompress(older) if older else b"")
    if latest is not None:
        cache.set(key, (latest, names, zlib.compress(lines, 1)), timeout=CSV_CACHE_SECONDS)
    return csv_header(words).encode() + lines


def csv_cells(lines: list[dict[str, Any]], member: str, words: Wording,
              named: dict[str, str] | None = None) -> list[list[str]]:
    """The CSV rows of ``lines`` (their buyers named in one query; each name is also put in ``named``); every cell
    that holds text a member or an operator chose (an order id, a name, a note) is made safe for a spreadsheet
    (``csv_cell``)."""
    names = display_names({line["source"] for line in lines if line["source"] and line["source"] != member})
    if named is not None:
        named.update(names)
    reversed_mark = " · " + _("reversed")
    tz = words.tz
    rows = []
    for line in lines:
        rule, source = line["rule"], line["source"]
        kind = words.label(rule) + (reversed_mark if line["reverses"] is not None else "")
        buyer = names.get(source, "") if source and source != member else ""
        note_text = words.note(rule, line["ref"]) if line["reverses"] is None else ""
        rows.append([line["at"].astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"), csv_cell(kind),
                     csv_cell(line["order"] or ""), csv_cell(buyer), csv_cell(words.book(line["book"])),
                     format_fen(line["amount"]), format_fen(line["balance_after"]), csv_cell(note_text)])
    return rows


@require_GET
@member_page
def statement_csv(request: HttpRequest) -> HttpResponse:
    member = member_of(request)
    try:
        asked = StatementQuery.parse(request.GET)
    except BadQuery as bad:
        return bad_query(request, bad, "/earnings")
    parts = ["statement", *([asked.month.strftime("%Y-%m")] if asked.month else []),
             *([asked.kind] if asked.kind else []), timezone.now().astimezone(shop_tz()).strftime("%Y%m%d")]
    response = HttpResponse(statement_csv_body(member, asked), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{"-".join(parts)}.csv"'
    return response


# --- an order's page for a member it paid ------------------------------------------------------------------------


def order_for_earner(request: HttpRequest, member: str, found: dict[str, Any]) -> HttpResponse:
    """``/orders/<order>`` for a member who is not its buyer: what the order moved on this member's own accounts
    (its reward, the reward's settlement, its reversal on a refund), the product and the buyer by display name; not
    the buyer's payment. A member the order paid nothing sees no such order."""
    from .shop import in_page_language, not_found, product_names, shop_timezone, with_status

    lines = reads.order_earnings(member, found["order"])
    if not lines:
        return not_found(request)
    view = with_status(found, product_names({found["sku"]}))
    earned = [{**line, "label_shown": in_page_language(line["label"], line["label_zh"]),
               "book_shown": in_page_language(line["book_label"], line["book_label_zh"])} for line in lines]
    context = {"tab": "earnings", "order": view, "earnings": earned, "shop_tz": shop_timezone(),
               "buyer": display_names([found["member"]])[found["member"]]}
    return render(request, "pages/earnings_order.html", context)
