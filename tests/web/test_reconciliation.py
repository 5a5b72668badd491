"""The providers' daily bills matched against the ledger to the fen: a payment missing from the ledger, one the bill
does not list, an amount off by a fen and a refund, from a WeChat Pay trade bill and an Alipay 业务明细; the same
through `liandong reconcile FILE` (exit 1 when anything is unmatched) and the office page."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from api_client import Caller, Register
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from office_client import office_browser
from typer.testing import CliRunner

from liandong.cli import app
from liandong.web.payments.base import PaymentNotice
from liandong.web.payments.notices import accept
from liandong.web.payments.reconcile import SHOP_ZONE, BillError, parse_bill, reconcile

pytest_plugins = ["api_fixtures"]
pytestmark = pytest.mark.django_db

WECHAT_HEAD = ("交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,"
               "货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,"
               "商户数据包,手续费,费率,订单金额,申请退款金额,费率备注")
ALIPAY_HEAD = ("支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,"
               "订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,"
               "商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注")


def today() -> str:
    return dt.datetime.now(SHOP_ZONE).date().isoformat()


def wechat_line(order: str, tx: str, amount: str, state: str = "SUCCESS", refund: str = "0.00",
                refund_no: str = "") -> str:
    cells = [f"{today()} 10:00:00", "wxd678efh567hg6787", "1900000109", "0", "", tx, order, "oUpF8u", "NATIVE", state,
             "OTHERS", "CNY", amount, "0.00", "", refund_no, refund, "0.00", "", "", "礼包", "", "0.00", "0.60%",
             amount, refund, ""]
    return ",".join(f"`{cell}" for cell in cells)


def wechat_bill(*lines: str) -> bytes:
    summary = ("总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\n"
               "`3,`0.00,`0.00,`0.00,`0.00,`0.00,`0.00")
    return "\n".join([WECHAT_HEAD, *lines, summary]).encode()


def alipay_bill(*lines: tuple[str, str, str, str]) -> bytes:
    rows = ["#支付宝业务明细查询", "#账号：[20880000000000000156]", f"#起始日期：[{today()} 00:00:00]", ALIPAY_HEAD]
    for trade_no, order, kind, amount in lines:
        rows.append(",".join([trade_no, order, kind, "礼包", f"{today()} 09:59:00", f"{today()} 10:00:00", "", "", "",
                              "", "buyer@example.com", amount, amount, "0.00", "0.00", "0.00", "0.00", "0.00", "",
                              "0.00", "0.00", "", "0.00", "0.00", ""]))
    rows += ["#-----------------------------------------业务明细列表结束------------------------------------",
             "#交易合计：1笔，商家实收共59.00元", f"#导出时间：[{today()} 12:00:00]"]
    return "\n".join(rows).encode("gb18030")


def paid(caller: Caller, sku: str, provider: str, tx: str) -> str:
    """An order paid through ``provider``'s (verified) notification, as the notify view accepts it."""
    created = caller.post("/api/orders", {"sku": sku}).body
    amount = 69900 if sku == "GIFT" else 5900
    assert accept(RequestFactory().post("/"), PaymentNotice(provider, tx, created["order"], amount, "CNY"))
    return str(created["order"])


@pytest.fixture
def shop(api_shop: None, register_member: Register, api_operator: Caller) -> dict[str, str]:
    alice = register_member("alice")
    orders = {"one": paid(alice, "GIFT", "wechatpay", "4201"), "two": paid(alice, "TEA", "wechatpay", "4202"),
              "three": paid(alice, "TEA", "wechatpay", "4203"), "ali": paid(alice, "TEA", "alipay", "2026001")}
    orders["unpaid"] = str(alice.post("/api/orders", {"sku": "TEA"}).body["order"])
    assert api_operator.post(f"/api/operator/orders/{orders['three']}/refund").status == 200
    return orders


def test_a_wechat_bill_finds_a_missing_payment_and_an_amount_off_by_a_fen(shop: dict[str, str]) -> None:
    bill = wechat_bill(wechat_line(shop["one"], "4201", "699.00"),
                       wechat_line(shop["two"], "4202", "59.01"),  # a fen more than the ledger's 59.00
                       wechat_line(shop["three"], "4203", "59.00"),
                       wechat_line(shop["three"], "4203", "0.00", state="REFUND", refund="59.00", refund_no="r3"),
                       wechat_line(shop["unpaid"], "4209", "59.00"))  # the provider took it; no event of ours
    result = reconcile(parse_bill(bill))
    assert (result.provider, result.matched, [d.isoformat() for d in result.days]) == ("wechatpay", 3, [today()])
    found = {(m.problem, m.kind, m.order, m.bill, m.ledger) for m in result.mismatches}
    assert found == {("amount_differs", "payment", shop["two"], 5901, 5900),
                     ("missing_in_ledger", "payment", shop["unpaid"], 5900, None)}


def test_a_payment_the_bill_does_not_list_is_found(shop: dict[str, str]) -> None:
    result = reconcile(parse_bill(wechat_bill(wechat_line(shop["one"], "4201", "699.00"))))
    assert {m.problem for m in result.mismatches} == {"missing_in_bill"}
    assert {(m.kind, m.order) for m in result.mismatches} == {("payment", shop["two"]), ("payment", shop["three"]),
                                                             ("refund", shop["three"])}


def test_an_alipay_bill_in_gbk_matches_to_the_fen(shop: dict[str, str]) -> None:
    clean = reconcile(parse_bill(alipay_bill(("2026001", shop["ali"], "交易", "59.00"))))
    assert (clean.provider, clean.matched, clean.clean) == ("alipay", 1, True)
    off = reconcile(parse_bill(alipay_bill(("2026001", shop["ali"], "交易", "58.99"))))
    assert [(m.problem, m.bill, m.ledger) for m in off.mismatches] == [("amount_differs", 5899, 5900)]


def test_a_file_that_is_not_a_bill_is_refused_naming_why() -> None:
    with pytest.raises(BillError, match="no header"):
        parse_bill(b"a,b,c\n1,2,3\n")
    with pytest.raises(BillError, match="line 2"):
        parse_bill(wechat_bill(wechat_line("o1", "1", "ten yuan")))


def test_liandong_reconcile_exits_1_listing_what_is_unmatched(shop: dict[str, str], tmp_path: Path) -> None:
    runner = CliRunner()
    good = tmp_path / "alipay.csv"
    good.write_bytes(alipay_bill(("2026001", shop["ali"], "交易", "59.00")))
    ok = runner.invoke(app, ["reconcile", str(good)])
    assert ok.exit_code == 0, ok.output
    assert f"alipay {today()}: 1 matched, 0 unmatched" in ok.output
    bad = tmp_path / "wechat.csv"
    bad.write_bytes(wechat_bill(wechat_line(shop["one"], "4201", "699.00"), wechat_line(shop["two"], "4202", "59.01"),
                                wechat_line(shop["three"], "4203", "59.00"),
                                wechat_line(shop["three"], "4203", "0.00", "REFUND", "59.00", "r3")))
    found = runner.invoke(app, ["reconcile", str(bad)])
    assert found.exit_code == 1, found.output
    assert f"amount_differs: payment of order {shop['two']}: bill 59.01, ledger 59.00 (4202)" in found.output
    assert "3 matched, 1 unmatched" in found.output
    not_a_bill = tmp_path / "x.csv"
    not_a_bill.write_bytes(b"nothing")
    assert runner.invoke(app, ["reconcile", str(not_a_bill)]).exit_code == 2


def test_the_office_page_lists_the_unmatched_lines(shop: dict[str, str]) -> None:
    finance = office_browser("finance")
    bill = wechat_bill(wechat_line(shop["one"], "4201", "699.00"), wechat_line(shop["two"], "4202", "59.01"))
    r = finance.post("/office/reconciliation", {"bill": SimpleUploadedFile("bill.csv", bill, "text/csv")},
                     HTTP_ACCEPT_LANGUAGE="en")
    html = r.content.decode()
    assert r.status_code == 200 and 'data-clean="no"' in html and 'data-matched="1"' in html
    assert f'data-problem="amount_differs" data-order="{shop["two"]}"' in html
    assert f'data-problem="missing_in_bill" data-order="{shop["three"]}"' in html
    wrong = finance.post("/office/reconciliation", {"bill": SimpleUploadedFile("x.csv", b"x", "text/csv")})
    assert wrong.status_code == 400 and "data-error" in wrong.content.decode()


@pytest.mark.parametrize("role", ["read-only", "operator"])
def test_who_may_not_decide_withdrawals_cannot_match_a_bill(shop: dict[str, str], role: str) -> None:
    bill = SimpleUploadedFile("bill.csv", wechat_bill(wechat_line(shop["one"], "4201", "699.00")), "text/csv")
    assert office_browser(role, "olga").post("/office/reconciliation", {"bill": bill}).status_code == 403
