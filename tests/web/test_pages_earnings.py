"""收益 (/earnings, /earnings/bill, /earnings/statement.csv) and 提现 (/withdraw): every figure equals the API's
(``/api/me/balances``, ``/api/me/statement``, ``/api/me/withdrawals``) or the engine's read for the same member;
the statement filters and pages by keyset; the CSV and the bill are the ledger's; the withdrawal review shows the
engine's fee and the engine's refusals; an order's page shows an earner what it earned them; a member sees only
its own money; visitors go to the login page; both languages with no untranslated text."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zlib
from fractions import Fraction
from html import unescape
from typing import Any

import pytest
from api_client import Caller, Register, buy, make_operator, make_shop
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import Sum
from django.http import QueryDict
from django.test import Client
from django.utils import timezone, translation
from django.utils.translation import gettext
from page_client import logged_in, page

from liandong.engine.core import withdrawal_fee
from liandong.engine.money import format_fen, parse_yuan
from liandong.service.store.models import LedgerEntry, MemberState, WithdrawalState
from liandong.service.worker import append_system_event, drain
from liandong.web.api import reads
from liandong.web.pages.views.earnings import PAGE_SIZE, StatementQuery, Wording, csv_cache_key, csv_cells

pytest_plugins = ["api_fixtures"]
pytestmark = pytest.mark.django_db
PAYEE = "alipay:13800000000"
#: The operator's reason for a rejection, as a Chinese shop writes it (shown as written, in either language).
REJECTED = {"reason": "收款账户姓名与实名不符"}
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def figure(html: str, name: str) -> str:
    found = re.search(rf'data-figure="{name}"[^>]*>([^<]*)<', html)
    assert found is not None, name
    return unescape(found.group(1)).strip()


def lines_of(html: str) -> list[dict[str, Any]]:
    """Each statement line on the page: its entry, rule, amount, balance after, order link and cause."""
    out = []
    for block in re.findall(r'<li data-line="\d+".*?</li>', html, re.S):
        entry = re.search(r'data-line="(\d+)" data-rule="([a-z0-9_]+)"', block)
        amount = re.search(r"data-amount>([^<]*)<", block)
        after = re.search(r"data-balance-after>([^<]*)<", block)
        link = re.search(r'href="(/orders/[^"]+)" data-order-link', block)
        assert entry and amount and after
        out.append({"entry": int(entry.group(1)), "rule": entry.group(2), "amount": unescape(amount.group(1)).strip(),
                    "after": unescape(after.group(1)).strip(), "link": link.group(1) if link else None,
                    "text": unescape(re.sub(r"<[^>]+>", " ", block))})
    return out


def link(html: str, rel: str) -> str | None:
    found = re.search(rf'href="([^"]*)" rel="{rel}"', html)
    return "/earnings" + unescape(found.group(1)) if found else None


def api_money_lines(caller: Caller, **query: Any) -> list[dict[str, Any]]:
    """The member's statement from the API, newest first, money lines only."""
    body = caller.get("/api/me/statement?order=newest&limit=500").body
    return [line for line in body["lines"] if re.fullmatch(r"-?\d+\.\d{2}", str(line["amount"]))
            and line["book"] in ("available", "pending", "help_fund", "withdrawing", "withdrawn")]


def yuan(amount: str, sign: bool = False) -> str:
    fen = parse_yuan(amount)
    return ("-¥" if fen < 0 else ("+¥" if sign else "¥")) + format_fen(abs(fen))


def visible_text(html: str) -> str:
    body = re.sub(r"<(script|style|head)\b.*?</\1>", " ", html, flags=re.S)
    return unescape(re.sub(r"<[^>]+>", " ", body))


def english_words(html: str, allowed: set[str]) -> set[str]:
    """Latin words of three letters or more in the page's visible text and its attributes people read (titles,
    placeholders, labels), less ``allowed`` (names, order numbers, the language switch)."""
    text = visible_text(html) + " " + " ".join(re.findall(r'(?:aria-label|placeholder|title)="([^"]*)"', html))
    return {w for w in re.findall(r"[A-Za-z]{3,}", text)} - allowed


@pytest.fixture
def alice(api_shop: None, register_member: Register) -> dict[str, Any]:
    """alice (an agent) is paid 100.00 for bob's gift pack and 100.00 as a rebate on her second one; she asks to
    withdraw 30.00. carl is nobody's referral and earns nothing."""
    a = register_member("alice")
    buy(a)
    b = register_member("bob", inviter=a)
    bob_order = buy(b)
    rebate_order = buy(a)
    assert a.post("/api/withdrawals", {"amount": "30.00", "payee": PAYEE}).status == 201
    return {"alice": a, "bob": b, "carl": register_member("carl"), "bob_order": bob_order,
            "rebate_order": rebate_order}


# --- 收益 ------------------------------------------------------------------------------------------------------------


def test_the_figures_and_the_statement_are_the_apis_in_both_languages(alice: dict[str, Any]) -> None:
    a = alice["alice"]
    balances = a.get("/api/me/balances").body
    api_lines = api_money_lines(a)
    for lang in ("zh-hans", "en"):
        status, html = page(logged_in(a), "/earnings", lang)
        assert status == 200
        for book in ("available", "pending", "withdrawing", "withdrawn", "help_fund"):
            assert figure(html, book) == yuan(balances[book]), book
        assert (figure(html, "available"), figure(html, "withdrawing")) == ("¥170.00", "¥30.00")
        assert "data-debt" not in html and 'data-figure="debt"' not in html
        shown = lines_of(html)
        assert [line["entry"] for line in shown] == [line["entry"] for line in api_lines]  # newest first
        for mine, theirs in zip(shown, api_lines, strict=True):
            assert mine["rule"] == theirs["rule"]
            assert mine["amount"] == yuan(theirs["amount"], sign=True)
            assert mine["after"].endswith(yuan(theirs["balance_after"]))
            assert mine["link"] == (f"/orders/{theirs['order']}" if theirs["order"] else None)
        direct = next(line for line in shown if line["rule"] == "direct_reward")
        assert "bob" in direct["text"] and direct["link"] == f"/orders/{alice['bob_order']}"
        assert ("直推奖" if lang == "zh-hans" else "direct reward") in direct["text"]
        rebate = next(line for line in shown if line["rule"] == "self_rebate")
        assert "bob" not in rebate["text"]  # her own purchase: no "bought by"
        assert not any(c.member in html for c in (alice["bob"], alice["carl"], a))  # names, never ids


def test_a_pending_amount_shows_the_day_it_settles_as_the_engine_reads_it(db: None, api_settings: Any,
                                                                          register_member: Register) -> None:
    make_shop(plans={"chain21": {"settle_after_days": 2}}, start=timezone.now() - dt.timedelta(days=1))
    a = register_member("alice")
    buy(a)
    buy(register_member("bob", inviter=a))
    read = MemberState.objects.get(member=a.member).reads["core"]["pending_settles"]
    today = timezone.now().astimezone(SHANGHAI).date()
    assert read == [{"day": (today + dt.timedelta(days=2)).isoformat(), "amount": "100.00", "rewards": 1}]
    assert a.get("/api/me/balances").body["pending"] == "100.00"
    for lang, words in (("zh-hans", "结算"), ("en", "Settles at the close of")):
        status, html = page(logged_in(a), "/earnings", lang)
        assert status == 200 and figure(html, "pending") == "¥100.00"
        item = re.search(r'<li class="spread" data-settles="([^"]+)">(.*?)</li>', html, re.S)
        assert item is not None and item.group(1) == read[0]["day"]
        assert "¥100.00" in item.group(2) and words in item.group(2) and read[0]["day"] in item.group(2)
    assert "data-pending" not in page(logged_in(register_member("carl")), "/earnings")[1]


def test_a_debt_is_shown_with_what_it_means(alice: dict[str, Any], api_operator: Caller) -> None:
    a = alice["alice"]
    assert api_operator.post(f"/api/operator/orders/{alice['bob_order']}/refund").status == 200
    assert api_operator.post(f"/api/operator/orders/{alice['rebate_order']}/refund").status == 200
    available = a.get("/api/me/balances").body["available"]
    assert available == "-30.00"
    _status, html = page(logged_in(a), "/earnings", "en")
    assert figure(html, "available") == "-¥30.00" and figure(html, "debt") == "¥30.00"
    assert "You owe ¥30.00" in html
    reversed_lines = [line for line in lines_of(html) if "reversed" in line["text"]]
    assert {line["rule"] for line in reversed_lines} == {"direct_reward", "self_rebate"}


def test_the_statement_filters_by_kind_and_month(alice: dict[str, Any]) -> None:
    a = alice["alice"]
    client = logged_in(a)
    _s, html = page(client, "/earnings?kind=direct_reward", "en")
    assert [line["rule"] for line in lines_of(html)] == ["direct_reward"]
    assert '<option value="direct_reward" selected>' in html
    month = timezone.now().astimezone(SHANGHAI).strftime("%Y-%m")
    _s, html = page(client, f"/earnings?month={month}", "en")
    assert len(lines_of(html)) == len(api_money_lines(a))
    _s, html = page(client, "/earnings?month=2020-01", "en")
    assert lines_of(html) == [] and "No line matches these filters." in html
    _s, html = page(client, f"/earnings?kind=withdrawal&month={month}", "en")
    assert [(line["rule"], line["amount"]) for line in lines_of(html)] == [("withdrawal", "+¥30.00"),
                                                                           ("withdrawal", "-¥30.00")]
    for query, field in (("kind=bonus", "kind"), ("kind=%3Cb%3E", "kind"), ("month=2026-13", "month"),
                         ("month=march", "month"), ("after=x1", "after"), ("after=1&before=2", "before")):
        status, html = page(client, f"/earnings?{query}", "en")
        assert status == 400 and "data-bad-query" in html and f'data-error-for="{field}"' in html, query


def test_the_statement_pages_by_keyset_newest_first(alice: dict[str, Any], api_operator: Caller) -> None:
    a = alice["alice"]
    for _ in range(12):  # each: 2 entries requesting, 2 returning
        w = a.post("/api/withdrawals", {"amount": "10.00", "payee": PAYEE})
        assert w.status == 201
        assert api_operator.post(f"/api/operator/withdrawals/{w.body['withdrawal']}/reject", REJECTED).status == 200
    expected = [line["entry"] for line in api_money_lines(a)]
    assert len(expected) > 2 * PAGE_SIZE
    client = logged_in(a)
    seen: list[int] = []
    path: str | None = "/earnings"
    pages: list[str] = []
    while path is not None:
        status, html = page(client, path, "en")
        assert status == 200
        entries = [line["entry"] for line in lines_of(html)]
        assert 0 < len(entries) <= PAGE_SIZE
        seen += entries
        pages.append(path)
        path = link(html, "next")
    assert seen == expected and len(pages) == 3
    _s, second = page(client, pages[1], "en")
    back = link(second, "prev")
    assert back is not None
    _s, first = page(client, back, "en")
    assert [line["entry"] for line in lines_of(first)] == expected[:PAGE_SIZE] and link(first, "prev") is None
    _s, filtered = page(client, "/earnings?kind=withdrawal_rejected", "en")  # paging keeps the filter
    nxt = link(filtered, "next")
    assert nxt is None or "kind=withdrawal_rejected" in nxt
    assert {line["rule"] for line in lines_of(filtered)} == {"withdrawal_rejected"}


def test_the_csv_is_the_members_own_statement_with_the_filters(alice: dict[str, Any]) -> None:
    a = alice["alice"]
    r = logged_in(a).get("/earnings/statement.csv", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    assert r["Content-Disposition"].startswith('attachment; filename="statement-')
    raw = r.content
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["时间", "类别", "订单", "来自", "账户", "金额（元）", "变动后余额（元）", "备注"]
    api_lines = api_money_lines(a)
    assert len(rows) - 1 == len(api_lines)
    for row, line in zip(rows[1:], api_lines, strict=True):
        assert row[5] == line["amount"] and row[6] == line["balance_after"]
        assert re.fullmatch(r"-?\d+\.\d{2}", row[5]) and row[2] == (line["order"] or "")
    direct = next(row for row, line in zip(rows[1:], api_lines, strict=True) if line["rule"] == "direct_reward")
    assert direct[1] == "直推奖" and direct[3] == "bob"
    only = list(csv.reader(io.StringIO(logged_in(a).get("/earnings/statement.csv?kind=withdrawal",
                                                           HTTP_ACCEPT_LANGUAGE="en").content.decode("utf-8-sig"))))
    assert only[0][0] == "Time" and [row[5] for row in only[1:]] == ["30.00", "-30.00"]
    assert alice["carl"].member not in raw.decode("utf-8-sig")
    bob_csv = logged_in(alice["bob"]).get("/earnings/statement.csv").content.decode("utf-8-sig")
    assert "30.00" not in bob_csv and len(list(csv.reader(io.StringIO(bob_csv)))) == 1  # bob earned nothing


def statement_worded_from_scratch(member: str, lang: str, query: str = "") -> bytes:
    """The CSV as the page wrote it before it kept text in the cache: the BOM and the header, then every line's
    cells (``csv_cells``) newest first, in one ``csv.writer``."""
    with translation.override(lang):
        words = Wording()
        asked = StatementQuery.parse(QueryDict(query))
        start, end = asked.bounds()
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([gettext(text) for text in ("Time", "Kind", "Order", "From", "Account", "Amount (yuan)",
                                                    "Balance after (yuan)", "Note")])
        writer.writerows(csv_cells(list(reads.money_statement_all(member, rule=asked.kind, start=start, end=end)),
                                   member, words))
        return ("\ufeff" + out.getvalue()).encode()


def test_the_csv_kept_in_the_cache_is_byte_for_byte_the_worded_one(alice: dict[str, Any],
                                                                   register_member: Register) -> None:
    a = alice["alice"]
    client = logged_in(a)
    month = timezone.now().astimezone(SHANGHAI).strftime("%Y-%m")
    asked = [("zh-hans", ""), ("en", ""), ("en", "kind=withdrawal"), ("zh-hans", f"month={month}")]

    def download(lang: str, query: str) -> bytes:
        r = client.get("/earnings/statement.csv" + (f"?{query}" if query else ""), HTTP_ACCEPT_LANGUAGE=lang)
        assert r.status_code == 200
        return bytes(r.content)

    first = {(lang, q): download(lang, q) for lang, q in asked}
    for (lang, q), body in first.items():
        assert body == statement_worded_from_scratch(a.member, lang, q), (lang, q)
        assert download(lang, q) == body  # from the cache: the same bytes
    # the cache is what a download reads: text put there is what the next download serves
    with translation.override("en"):
        key = csv_cache_key(a.member, StatementQuery.parse(QueryDict("")), Wording())
    newest, names, text = cache.get(key)
    assert newest == max(LedgerEntry.objects.filter(owner=a.member, unit="fen").values_list("id", flat=True))
    assert names == {alice["bob"].member: "bob"}
    cache.set(key, (newest, names, zlib.compress(zlib.decompress(text).replace(b"bob", b"BOB"))))
    assert b"BOB" in download("en", "")
    cache.set(key, (newest, names, text))
    # new lines arrive (dave joins through alice and buys a gift pack): put before the kept text, the same bytes
    dave = register_member("dave", inviter=a)
    buy(dave)
    for (lang, q), body in first.items():
        again = download(lang, q)
        assert again == statement_worded_from_scratch(a.member, lang, q), (lang, q)
        if q in ("", f"month={month}"):
            header = body.split(b"\r\n", 1)[0] + b"\r\n"
            assert len(again) > len(body) and again.endswith(body[len(header):]) and b"dave" in again
    # an operator renames bob: the kept text named him, so it is worded again
    get_user_model().objects.filter(username="bob").update(username="bobby")
    renamed = download("en", "")
    assert renamed == statement_worded_from_scratch(a.member, "en") and b"bobby" in renamed


def test_the_bill_totals_are_the_ledgers_sums(alice: dict[str, Any]) -> None:
    a = alice["alice"]
    now = timezone.now().astimezone(SHANGHAI)
    month = now.strftime("%Y-%m")
    for lang in ("zh-hans", "en"):
        status, html = page(logged_in(a), f"/earnings/bill?month={month}", lang)
        assert status == 200 and f'data-bill="{month}"' in html
        balances = a.get("/api/me/balances").body
        for book in ("available", "withdrawing"):
            card = re.search(rf'<div class="card" data-book="{book}">(.*?)</table>', html, re.S)
            assert card is not None, book
            body = card.group(1)
            entries = LedgerEntry.objects.filter(owner=a.member, book=book, unit="fen")
            sums = {rule: total for rule, total in entries.values("transaction__rule").annotate(total=Sum("amount"))
                    .values_list("transaction__rule", "total")}
            shown = {rule: unescape(v).strip() for rule, v in
                     re.findall(r'data-total="([a-z0-9_]+)">.*?data-amount>([^<]*)<', body, re.S)}
            assert shown == {rule: ("-¥" if t < 0 else "+¥") + format_fen(abs(t)) for rule, t in sums.items()}
            opening = re.search(r"data-opening>([^<]*)<", body)
            closing = re.search(r"data-closing>([^<]*)<", body)
            assert opening and closing and opening.group(1) == "¥0.00"  # the shop started yesterday: nothing before
            assert unescape(closing.group(1)) == yuan(balances[book]) == "¥" + format_fen(sum(sums.values()))
    _s, html = page(logged_in(a), "/earnings/bill?month=2020-01", "en")
    assert "data-bill-empty" in html
    later = (now.replace(day=1) + dt.timedelta(days=32)).strftime("%Y-%m")
    _s, html = page(logged_in(a), f"/earnings/bill?month={later}", "en")  # a month to come: opening = closing now
    assert re.search(r'data-book="available".*?data-opening>¥170.00<.*?data-closing>¥170.00<', html, re.S)
    status, html = page(logged_in(a), "/earnings/bill?month=2026-1", "en")
    assert status == 400 and 'data-error-for="month"' in html


# --- 提现 ------------------------------------------------------------------------------------------------------------


@pytest.fixture
def fee_shop(db: None, api_settings: Any, register_member: Register) -> Caller:
    """A shop running chain21 and distribution with a 1% withdrawal fee; alice is paid 100.00 for bob's gift pack."""
    make_shop(plans={"chain21": {}, "distribution": {"withdrawal_fee_rate": "0.01", "min_withdrawal": "20.00"}},
              start=timezone.now() - dt.timedelta(days=1))
    a = register_member("alice")
    buy(a)
    buy(register_member("bob", inviter=a))
    assert a.get("/api/me/balances").body["available"] == "100.00"
    return a


def test_the_review_shows_the_engines_minimum_fee_and_net_and_the_request_is_the_apis(
        fee_shop: Caller, api_operator: Caller) -> None:
    a = fee_shop
    status, html = page(logged_in(a), "/withdraw", "en")
    assert status == 200 and 'data-term="minimum">¥20.00<' in html and "1% of the amount" in html
    assert "data-review" not in html and "data-withdraw-form" in html
    status, html = page(logged_in(a), "/withdraw?amount=60.50&payee=alipay%3A13800000000", "en")
    fee = withdrawal_fee(6050, Fraction(1, 100))
    assert status == 200 and fee == 60
    assert figure(html, "quote_amount") == "¥60.50" and figure(html, "quote_fee") == "¥" + format_fen(fee)
    assert figure(html, "quote_net") == "¥" + format_fen(6050 - fee) and figure(html, "quote_payee") == PAYEE
    form = re.search(r'<form class="form" data-api="/api/withdrawals" data-key="([0-9a-f]{32})"(.*?)</form>', html,
                     re.S)
    assert form is not None
    sent = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form.group(2)))
    assert sent == {"amount": "60.50", "payee": PAYEE}
    assert a.get("/api/me/balances").body["withdrawing"] == "0.00"  # reviewing changes nothing
    change = re.search(r'href="([^"]+)" data-change', html)
    assert change is not None
    _s, editing = page(logged_in(a), unescape(change.group(1)), "en")  # back to the form, filled in
    assert "data-review" not in editing and 'value="60.50"' in editing and f'value="{PAYEE}"' in editing
    made = a.post("/api/withdrawals", {k: unescape(v) for k, v in sent.items()}, key=form.group(1))
    assert made.status == 201
    _s, html = page(logged_in(a), f"/withdraw?requested={made.body['withdrawal']}", "en")
    assert f'data-requested="{made.body["withdrawal"]}"' in html and "Withdrawal of ¥60.50 requested" in html
    approved = api_operator.post(f"/api/operator/withdrawals/{made.body['withdrawal']}/approve")
    assert approved.status == 200 and approved.body["fee"] == format_fen(fee)  # the fee the page showed
    assert WithdrawalState.objects.get(withdrawal=made.body["withdrawal"]).fee == fee


def test_refused_input_shows_the_engines_reason_next_to_the_field(fee_shop: Caller) -> None:
    a = fee_shop
    client = logged_in(a)
    cases = [("amount=5.00", "amount", "amount 5.00 is below the minimum withdrawal 20.00",
              "提现金额 5.00 低于最低提现额 20.00"),
             ("amount=100.01", "amount", "amount 100.01 is more than the available balance 100.00", None),
             ("amount=ten", "amount", "amount “ten”: not an amount in yuan", None),
             ("amount=30.00&payee=", "payee", "Enter the account the money goes to.", None)]
    for query, field, english, chinese in cases:
        status, html = page(client, f"/withdraw?{query}&payee=x" if "payee" not in query else f"/withdraw?{query}",
                            "en")
        assert status == 200 and "data-review" not in html, query
        error = re.search(rf'data-error-for="{field}">([^<]*)<', html)
        assert error is not None and english in unescape(error.group(1)), (query, html[-2000:])
        if chinese:
            _s, zh = page(client, f"/withdraw?{query}&payee=x", "zh-hans")
            assert chinese in unescape(zh)
    refused = a.post("/api/withdrawals", {"amount": "150.00", "payee": PAYEE})  # past the page: the engine refuses
    assert refused.status == 422
    _s, html = page(client, "/withdraw", "en")
    item = re.search(r"data-refused-requests>(.*?)</ul>", html, re.S)
    assert item is not None and refused.body["error"]["message"] in unescape(item.group(1))
    assert "¥150.00" in item.group(1)


def test_the_withdrawals_list_every_status_as_the_api(alice: dict[str, Any], api_operator: Caller) -> None:
    a = alice["alice"]
    ids = [a.post("/api/withdrawals", {"amount": "20.00", "payee": PAYEE}).body["withdrawal"] for _ in range(3)]
    assert api_operator.post(f"/api/operator/withdrawals/{ids[0]}/reject", REJECTED).status == 200
    assert api_operator.post(f"/api/operator/withdrawals/{ids[1]}/approve").status == 200
    assert api_operator.post(f"/api/operator/withdrawals/{ids[2]}/approve").status == 200
    assert api_operator.post(f"/api/operator/withdrawals/{ids[2]}/mark-paid", {"reference": "b-1"}).status == 200
    mine = a.get("/api/me/withdrawals").body["withdrawals"]
    for lang, key in (("en", "label"), ("zh-hans", "label_zh")):
        _s, html = page(logged_in(a), "/withdraw", lang)
        listed = re.findall(r'data-withdrawal="(\w+)" data-status="(\w+)">.*?data-status-label>([^<]*)<', html, re.S)
        assert listed == [(w["withdrawal"], w["status"], w[key]) for w in mine]
    assert {w["status"] for w in mine} == {"requested", "approved", "rejected", "paid"}
    _s, html = page(logged_in(a), "/withdraw", "en")
    assert "data-rejected" in html and "returned to available" in html
    status, _html = page(logged_in(a), "/withdraw?after=nope", "en")
    assert status == 400


@pytest.mark.parametrize("lang", ("zh-hans", "en"))
def test_the_withdraw_pages_figures_are_the_apis(alice: dict[str, Any], lang: str) -> None:
    a = alice["alice"]
    balances = a.get("/api/me/balances").body
    _s, html = page(logged_in(a), "/withdraw", lang)
    assert (figure(html, "available"), figure(html, "withdrawing")) == (yuan(balances["available"]),
                                                                         yuan(balances["withdrawing"]))
    mine = a.get("/api/me/withdrawals").body["withdrawals"]
    amounts = re.findall(r'data-withdrawal="\w+" data-status="\w+">.*?<strong class="money">([^<]*)<', html, re.S)
    assert [unescape(x) for x in amounts] == [yuan(w["amount"]) for w in mine]


def test_a_rejection_shows_the_shops_reason_as_the_api_has_it_in_both_languages(
        alice: dict[str, Any], api_operator: Caller) -> None:
    a = alice["alice"]
    w = a.post("/api/withdrawals", {"amount": "20.00", "payee": PAYEE}).body["withdrawal"]
    reason = "收款账户姓名与实名不符 <请用本人账户>"
    assert api_operator.post(f"/api/operator/withdrawals/{w}/reject", {"reason": reason}).status == 200
    api_reason = a.get(f"/api/withdrawals/{w}").body["reason"]
    assert api_reason == reason
    for lang, label in (("en", "The shop's reason:"), ("zh-hans", None)):
        _s, html = page(logged_in(a), "/withdraw", lang)
        item = re.search(rf'data-withdrawal="{w}".*?</li>', html, re.S)
        assert item is not None
        shown = re.search(r"data-reject-reason>(.*?)</div>", item.group(0), re.S)
        assert shown is not None and api_reason in unescape(re.sub(r"<[^>]+>", "", shown.group(1)))
        assert "&lt;请用本人账户&gt;" in shown.group(1)  # escaped: the operator's text is never markup
        if label:
            assert label in unescape(shown.group(1))


def test_a_rejection_logged_without_a_reason_says_to_ask_the_shop(alice: dict[str, Any]) -> None:
    a = alice["alice"]
    w = a.get("/api/me/withdrawals").body["withdrawals"][0]["withdrawal"]
    append_system_event("reject_withdrawal", {"withdrawal": w}, f"test:old-reject:{w}")  # an old log's rejection
    drain()
    assert a.get(f"/api/withdrawals/{w}").body["reason"] is None
    _s, html = page(logged_in(a), "/withdraw", "en")
    item = re.search(rf'data-withdrawal="{w}".*?</li>', html, re.S)
    assert item is not None and 'data-reject-reason=""' in item.group(0)
    assert "recorded without a reason: ask the shop" in item.group(0)


# --- an order's earnings, isolation, login, languages ---------------------------------------------------------------


def test_the_order_page_shows_the_earner_what_it_earned_them_and_nobody_else_sees_it(alice: dict[str, Any]) -> None:
    a, order = alice["alice"], alice["bob_order"]
    status, html = page(logged_in(a), f"/orders/{order}", "en")
    assert status == 200 and "data-earner" in html and 'data-buyer>bob<' in html
    earned = re.findall(r'data-rule="(\w+)">.*?data-amount>([^<]*)<', html, re.S)
    assert earned == [("direct_reward", "+¥100.00")]
    assert 'data-figure="total"' not in html and "data-pay" not in html  # not the buyer's payment
    assert page(logged_in(alice["carl"]), f"/orders/{order}", "en")[0] == 404  # it paid carl nothing
    status, html = page(logged_in(alice["bob"]), f"/orders/{order}", "en")  # the buyer's own page, as before
    assert status == 200 and "data-earner" not in html and 'data-figure="total"' in html


def test_a_member_sees_only_its_own_money(alice: dict[str, Any]) -> None:
    bob = logged_in(alice["bob"])
    _s, html = page(bob, "/earnings", "en")
    assert figure(html, "available") == "¥0.00" and lines_of(html) == []
    assert "alice" not in html and "30.00" not in html
    _s, html = page(bob, "/withdraw", "en")
    assert "data-withdrawal=" not in html and "30.00" not in html
    mine = WithdrawalState.objects.get(member=alice["alice"].member).withdrawal
    _s, html = page(bob, f"/withdraw?requested={mine}", "en")
    assert "data-requested" not in html
    alice_entry = LedgerEntry.objects.filter(owner=alice["alice"].member).order_by("id").first()
    assert alice_entry is not None
    _s, html = page(bob, f"/earnings?after={alice_entry.id + 1000}", "en")  # a cursor reads only bob's entries
    assert lines_of(html) == []
    _s, html = page(bob, "/earnings/bill", "en")
    assert "¥170.00" not in html and "data-bill-empty" in html


@pytest.mark.parametrize("path", ["/earnings", "/earnings/bill", "/earnings/statement.csv", "/withdraw",
                                  "/withdraw?amount=10.00&payee=x"])
def test_a_visitor_goes_to_the_login_page(api_shop: None, path: str) -> None:
    r = Client().get(path)
    assert r.status_code == 302 and r["Location"].startswith("/login?next=")


def test_an_operator_login_is_not_a_member(api_shop: None) -> None:
    operator = make_operator("clerk")
    assert page(logged_in(operator), "/earnings")[0] == 403


def test_the_tabbar_and_me_link_to_earnings(alice: dict[str, Any]) -> None:
    _s, html = page(logged_in(alice["alice"]), "/earnings", "en")
    tabs = re.findall(r'<nav class="tabbar".*?</nav>', html, re.S)[0]
    assert re.findall(r'href="([^"]+)"', tabs) == ["/", "/team", "/earnings", "/me"]
    assert 'href="/earnings" class="on" aria-current="page"' in tabs
    _s, html = page(logged_in(alice["alice"]), "/me", "en")
    assert 'href="/earnings" data-earnings-link' in html


def test_no_page_shows_untranslated_text_in_chinese(alice: dict[str, Any], api_operator: Caller) -> None:
    a = alice["alice"]
    w = a.post("/api/withdrawals", {"amount": "20.00", "payee": PAYEE}).body["withdrawal"]
    api_operator.post(f"/api/operator/withdrawals/{w}/reject", REJECTED)
    a.post("/api/withdrawals", {"amount": "500.00", "payee": PAYEE})  # refused: its reason is listed
    month = timezone.now().astimezone(SHANGHAI).strftime("%Y-%m")
    orders = {alice["bob_order"], alice["rebate_order"]}
    allowed = {"alice", "bob", "carl", "EN", "CSV", "alipay", "YYYY", "GIFT", "TEA", "Liandong",
               *re.findall(r"[A-Za-z]{3,}", " ".join([*orders, w, PAYEE]))}
    paths = ["/earnings", f"/earnings?kind=direct_reward&month={month}", f"/earnings/bill?month={month}",
             "/withdraw", "/withdraw?amount=30.00&payee=alipay%3A13800000000", "/withdraw?amount=5&payee=x",
             f"/orders/{alice['bob_order']}", "/earnings?month=bad"]
    for path in paths:
        status, html = page(logged_in(a), path, "zh-hans")
        assert status in (200, 400), path
        named = {"month", "bad"} if path.endswith("month=bad") else set()  # a bad value names its field and value
        assert english_words(html, allowed | named) == set(), path
        _s, en = page(logged_in(a), path, "en")
        shown = visible_text(en).replace("中文", "").replace("链动", "").replace(REJECTED["reason"], "")  # as written
        assert not re.search(r"[\u4e00-\u9fff]", shown), path
