"""Payments in through WeChat Pay and Alipay, offline: notifications signed with self-generated key pairs that the
SDKs' own verification accepts; tampered, replayed, stale, wrong-amount and foreign ones refused and logged with
their reason; duplicates acknowledged without a second pay event; refunds through each SDK against a fake server at
its request boundary; the providers turned on from the environment."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import alipay
import pytest
import wechatpayv3.core
from api_client import Caller, Register
from django.core.cache import cache
from django.test import Client
from payment_platforms import (
    ALIPAY_APPID,
    APIV3_KEY,
    APPID,
    CERT_SERIAL,
    MCHID,
    PLATFORM_KEY_ID,
    AlipayServer,
    KeyPair,
    WeChatPayServer,
    alipay_notification,
    env_files,
    wechat_notification,
    wechat_resource,
)

from liandong.service.store.models import LoggedEvent
from liandong.web.payments import registry
from liandong.web.payments.alipay_provider import AlipayProvider
from liandong.web.payments.base import ProviderError
from liandong.web.payments.wechatpay import WeChatPayProvider

pytest_plugins = ["api_fixtures"]
pytestmark = pytest.mark.django_db

WECHAT_NOTIFY, ALIPAY_NOTIFY = "/api/payments/wechatpay/notify", "/api/payments/alipay/notify"


@pytest.fixture(autouse=True)
def _no_provider_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "LOADED", True)


@pytest.fixture(scope="module")
def keys() -> dict[str, KeyPair]:
    """The two platforms' keys and the two merchants' keys."""
    return {name: KeyPair.new() for name in ("platform", "merchant", "alipay", "app")}


@pytest.fixture
def wechat(keys: dict[str, KeyPair], monkeypatch: pytest.MonkeyPatch) -> Iterator[WeChatPayProvider]:
    cache.clear()
    provider = WeChatPayProvider(mchid=MCHID, appid=APPID, apiv3_key=APIV3_KEY,
                                 private_key=keys["merchant"].private_pem, cert_serial=CERT_SERIAL,
                                 platform_public_key=keys["platform"].public_pem,
                                 platform_public_key_id=PLATFORM_KEY_ID,
                                 notify_url="https://shop.example/api/payments/wechatpay/notify")
    monkeypatch.setitem(registry.ACTIVE, "wechatpay", provider)
    yield provider
    cache.clear()


@pytest.fixture
def wechat_server(keys: dict[str, KeyPair], monkeypatch: pytest.MonkeyPatch) -> WeChatPayServer:
    server = WeChatPayServer(keys["platform"], keys["merchant"])
    monkeypatch.setattr(wechatpayv3.core, "requests", server)
    return server


@pytest.fixture
def ali(keys: dict[str, KeyPair], monkeypatch: pytest.MonkeyPatch) -> AlipayProvider:
    provider = AlipayProvider(appid=ALIPAY_APPID, app_private_key=keys["app"].private_pem,
                              alipay_public_key=keys["alipay"].public_pem)
    monkeypatch.setitem(registry.ACTIVE, "alipay", provider)
    return provider


@pytest.fixture
def alipay_server(keys: dict[str, KeyPair], monkeypatch: pytest.MonkeyPatch) -> AlipayServer:
    server = AlipayServer(keys["alipay"], keys["app"])
    monkeypatch.setattr(alipay, "urlopen", server)
    return server


def order_of(caller: Caller, sku: str = "GIFT") -> str:
    created = caller.post("/api/orders", {"sku": sku})
    assert created.status == 201, created.body
    return str(created.body["order"])


def notify_wechat(headers: dict[str, str], body: bytes) -> Any:
    return Client().post(WECHAT_NOTIFY, data=body, content_type="application/json", headers=headers)


def notify_alipay(form: dict[str, str]) -> Any:
    return Client().post(ALIPAY_NOTIFY, data=urlencode(form), content_type="application/x-www-form-urlencoded")


def pays() -> list[LoggedEvent]:
    return list(LoggedEvent.objects.filter(verb="pay"))


# --- WeChat Pay notifications -------------------------------------------------------------------------------------


def test_a_signed_wechat_notification_pays_the_order_once(api_shop: None, register_member: Register,
                                                          wechat: WeChatPayProvider, keys: dict[str, KeyPair],
                                                          wechat_server: WeChatPayServer) -> None:
    alice = register_member("alice")
    order = order_of(alice)
    headers, body = wechat_notification(keys["platform"], wechat_resource(order, 69900))
    assert wechat.client.callback(headers, body.decode())["resource"]["out_trade_no"] == order  # the SDK agrees
    answer = notify_wechat(headers, body)
    assert (answer.status_code, answer.json()) == (200, {"code": "SUCCESS"})
    [pay] = pays()
    assert (pay.key, pay.actor, pay.payload["order"], pay.payload["amount"]) == (
        "payment:wechatpay:4200000001202612040000000001", "payment", order, "699.00")
    assert alice.get(f"/api/orders/{order}").body["status"] == "paid"
    # WeChat Pay retries: a new delivery (new nonce, new signature) of the same transaction is acknowledged only
    again = notify_wechat(*wechat_notification(keys["platform"], wechat_resource(order, 69900)))
    assert (again.status_code, again.json()) == (200, {"code": "SUCCESS"})
    assert len(pays()) == 1
    assert wechat_server.calls == []  # no certificate was downloaded


@pytest.mark.parametrize("case", ["tampered", "replayed", "stale", "future", "wrong_amount", "wrong_currency",
                                  "other_merchant", "unknown_order", "foreign_key", "unknown_serial", "bad_apiv3"])
def test_a_bad_wechat_notification_is_refused_and_logged(case: str, api_shop: None, register_member: Register,
                                                         wechat: WeChatPayProvider, keys: dict[str, KeyPair],
                                                         wechat_server: WeChatPayServer,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    order = order_of(register_member("alice"))
    resource, platform, options = wechat_resource(order, 69900), keys["platform"], {}
    reason = {"tampered": "does not verify", "replayed": "replayed", "stale": "stale", "future": "stale",
              "wrong_amount": "amount 0.01 is not the order's 699.00", "wrong_currency": "currency 'USD'",
              "other_merchant": "another merchant", "unknown_order": "not one of our orders",
              "foreign_key": "does not verify", "unknown_serial": "is not our platform key",
              "bad_apiv3": "does not verify"}[case]
    if case == "stale":
        options["stamp"] = int(time.time()) - 301
    elif case == "future":
        options["stamp"] = int(time.time()) + 301
    elif case == "wrong_amount":
        resource = wechat_resource(order, 1)
    elif case == "wrong_currency":
        resource = wechat_resource(order, 69900, currency="USD")
    elif case == "other_merchant":
        resource = wechat_resource(order, 69900, mchid="1900000999")
    elif case == "unknown_order":
        resource = wechat_resource("o-not-ours", 69900)
    elif case == "foreign_key":
        platform = KeyPair.new()
    elif case == "unknown_serial":
        options["serial"] = "PUB_KEY_ID_OTHER"
    elif case == "bad_apiv3":
        options["apiv3_key"] = "f" * 32
    headers, body = wechat_notification(platform, resource, **options)
    if case == "tampered":
        body = body.replace(b'"summary": "', b'"summary": "x')
    if case == "replayed":
        assert notify_wechat(headers, body).status_code == 200
    with caplog.at_level(logging.WARNING, logger="liandong.payments"):
        answer = notify_wechat(headers, body)
    assert answer.status_code == 400 and answer.json()["code"] == "FAIL"
    assert reason in answer.json()["message"]
    assert any(reason in record.getMessage() and "refused wechatpay" in record.getMessage()
               for record in caplog.records)
    assert len(pays()) == (1 if case == "replayed" else 0)
    assert wechat_server.calls == []


def test_the_sdk_alone_accepts_a_month_old_notification(api_shop: None, register_member: Register,
                                                        wechat: WeChatPayProvider, keys: dict[str, KeyPair]) -> None:
    """Why the window is ours: the SDK's verification takes a 30-day-old notification that we refuse."""
    order = order_of(register_member("alice"))
    headers, body = wechat_notification(keys["platform"], wechat_resource(order, 69900),
                                        stamp=int(time.time()) - 30 * 86400)
    assert wechat.client.callback(headers, body.decode()) is not None
    assert notify_wechat(headers, body).status_code == 400 and pays() == []


def test_an_order_paid_by_one_transaction_refuses_another(api_shop: None, register_member: Register,
                                                          wechat: WeChatPayProvider,
                                                          keys: dict[str, KeyPair]) -> None:
    order = order_of(register_member("alice"))
    assert notify_wechat(*wechat_notification(keys["platform"], wechat_resource(order, 69900))).status_code == 200
    other = notify_wechat(*wechat_notification(keys["platform"],
                                               wechat_resource(order, 69900, transaction_id="4200000002")))
    assert other.status_code == 400 and "already paid by 4200000001202612040000000001" in other.json()["message"]
    assert len(pays()) == 1


def test_a_provider_that_is_off_answers_404(api_shop: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(registry.ACTIVE, "wechatpay", raising=False)
    monkeypatch.delitem(registry.ACTIVE, "alipay", raising=False)
    assert Client().post(WECHAT_NOTIFY, data=b"{}", content_type="application/json").status_code == 404
    assert notify_alipay({"out_trade_no": "x"}).status_code == 404


# --- Alipay notifications -----------------------------------------------------------------------------------------


def test_a_signed_alipay_notification_pays_the_order_once(api_shop: None, register_member: Register,
                                                          ali: AlipayProvider, keys: dict[str, KeyPair]) -> None:
    alice = register_member("alice")
    order = order_of(alice, "TEA")
    form = alipay_notification(keys["alipay"], order, "59.00")
    unsigned = {k: v for k, v in form.items() if k not in ("sign", "sign_type")}
    assert ali.client.verify(dict(unsigned), form["sign"])  # the SDK's own verification accepts it
    answer = notify_alipay(form)
    assert (answer.status_code, answer.content) == (200, b"success")
    [pay] = pays()
    assert (pay.key, pay.payload["amount"]) == ("payment:alipay:2026120422001400000000000001", "59.00")
    assert alice.get(f"/api/orders/{order}").body["status"] == "paid"
    replay = notify_alipay(form)  # Alipay repeats a notice until it reads "success": acknowledged, logged once
    assert (replay.status_code, replay.content) == (200, b"success")
    assert len(pays()) == 1


@pytest.mark.parametrize("case", ["tampered", "wrong_amount", "sign_type_rsa", "no_sign", "foreign_key",
                                  "other_app", "not_paid", "wrong_currency", "garbage_sign"])
def test_a_bad_alipay_notification_is_refused_and_logged(case: str, api_shop: None, register_member: Register,
                                                         ali: AlipayProvider, keys: dict[str, KeyPair],
                                                         caplog: pytest.LogCaptureFixture) -> None:
    order = order_of(register_member("alice"), "TEA")
    signer, amount, options = keys["alipay"], "59.00", {}
    reason = {"tampered": "does not verify", "wrong_amount": "amount 58.99 is not the order's 59.00",
              "sign_type_rsa": "is not RSA2", "no_sign": "no sign", "foreign_key": "does not verify",
              "other_app": "is not ours", "not_paid": "not a succeeded payment", "wrong_currency": "currency 'USD'",
              "garbage_sign": "sign"}[case]
    if case == "wrong_amount":
        amount = "58.99"
    elif case == "foreign_key":
        signer = KeyPair.new()
    elif case == "other_app":
        options["app_id"] = "2021000000009999"
    elif case == "not_paid":
        options["trade_status"] = "WAIT_BUYER_PAY"
    elif case == "wrong_currency":
        options["trans_currency"] = "USD"
    form = alipay_notification(signer, order, amount, **options)
    if case == "tampered":
        form["total_amount"] = "0.01"
    elif case == "sign_type_rsa":
        form["sign_type"] = "RSA"
    elif case == "no_sign":
        del form["sign"]
    elif case == "garbage_sign":
        form["sign"] = "@@not base64@@"
    with caplog.at_level(logging.WARNING, logger="liandong.payments"):
        answer = notify_alipay(form)
    assert (answer.status_code, answer.content) == (200, b"fail")
    assert any(reason in record.getMessage() and "refused alipay" in record.getMessage()
               for record in caplog.records)
    assert pays() == []


# --- refunds through each SDK -------------------------------------------------------------------------------------


def test_a_refund_through_wechat_pay(wechat: WeChatPayProvider, wechat_server: WeChatPayServer) -> None:
    wechat_server.answers["/v3/refund/domestic/refunds"] = (200, {
        "refund_id": "50000000382019052709732678859", "out_refund_no": "r-1", "transaction_id": "4200000001",
        "status": "PROCESSING", "amount": {"refund": 5900, "total": 69900, "currency": "CNY"}})
    result = wechat.refund(out_trade_no="o-1", transaction_id="4200000001", refund_no="r-1", amount=5900,
                           total=69900, reason="退货")
    assert (result.provider_refund_id, result.state, result.amount) == ("50000000382019052709732678859",
                                                                        "PROCESSING", 5900)
    [(method, path, sent)] = wechat_server.calls
    assert (method, path) == ("POST", "/v3/refund/domestic/refunds")
    assert sent == {"notify_url": "https://shop.example/api/payments/wechatpay/notify", "out_refund_no": "r-1",
                    "amount": {"refund": 5900, "total": 69900, "currency": "CNY"},
                    "transaction_id": "4200000001", "reason": "退货"}


def test_a_wechat_refund_refused_or_unsigned_is_an_error(wechat: WeChatPayProvider,
                                                         wechat_server: WeChatPayServer) -> None:
    wechat_server.answers["/v3/refund/domestic/refunds"] = (400, {"code": "NOT_ENOUGH", "message": "余额不足"})
    with pytest.raises(ProviderError, match="NOT_ENOUGH"):
        wechat.refund(out_trade_no="o-1", transaction_id="42", refund_no="r-2", amount=100, total=100, reason="")
    wechat_server.answers["/v3/refund/domestic/refunds"] = (200, {"refund_id": "5", "status": "SUCCESS",
                                                                  "amount": {"refund": 100}})
    wechat_server.sign_answers = False  # an answer not signed by the platform is not believed
    with pytest.raises(ProviderError, match="verify"):
        wechat.refund(out_trade_no="o-1", transaction_id="42", refund_no="r-3", amount=100, total=100, reason="")


def test_a_native_order_gives_its_qr_code_url(wechat: WeChatPayProvider, wechat_server: WeChatPayServer) -> None:
    wechat_server.answers["/v3/pay/transactions/native"] = (200, {"code_url": "weixin://wxpay/bizpayurl?pr=p4lpSuK"})
    answer = wechat.create_order(out_trade_no="o-9", amount=69900, description="礼包", channel="native")
    assert answer["code_url"].startswith("weixin://")
    [(_, _, sent)] = wechat_server.calls
    assert sent is not None and (sent["amount"], sent["mchid"], sent["appid"]) == (
        {"total": 69900, "currency": "CNY"}, MCHID, APPID)
    assert sent["notify_url"] == "https://shop.example/api/payments/wechatpay/notify"


def test_a_refund_through_alipay(ali: AlipayProvider, alipay_server: AlipayServer) -> None:
    alipay_server.answers["alipay.trade.refund"] = {
        "code": "10000", "msg": "Success", "trade_no": "2026120422001400000000000001", "out_trade_no": "o-1",
        "buyer_logon_id": "159****5620", "fund_change": "Y", "refund_fee": "59.00"}
    result = ali.refund(out_trade_no="o-1", transaction_id="2026120422001400000000000001", refund_no="r-1",
                        amount=5900, total=5900, reason="退货")
    assert (result.state, result.amount, result.provider_refund_id) == ("SUCCESS", 5900,
                                                                        "2026120422001400000000000001")
    [call] = alipay_server.calls
    assert call["method"] == "alipay.trade.refund" and call["sign_type"] == "RSA2"
    assert call["biz_content"] == {"refund_amount": "59.00", "trade_no": "2026120422001400000000000001",
                                   "out_request_no": "r-1", "refund_reason": "退货"}


def test_an_alipay_refund_refused_is_an_error(ali: AlipayProvider, alipay_server: AlipayServer) -> None:
    alipay_server.answers["alipay.trade.refund"] = {"code": "40004", "msg": "Business Failed",
                                                    "sub_code": "ACQ.TRADE_HAS_FINISHED", "sub_msg": "交易已完结"}
    with pytest.raises(ProviderError, match="40004"):
        ali.refund(out_trade_no="o-1", transaction_id="2026", refund_no="r-2", amount=100, total=100, reason="")


def test_an_alipay_page_pay_url_is_signed_for_the_order(ali: AlipayProvider, keys: dict[str, KeyPair]) -> None:
    from urllib.parse import parse_qsl, urlsplit

    from payment_platforms import alipay_string
    url = ali.pay_url(out_trade_no="o-7", amount=69900, subject="礼包", channel="page")
    params = dict(parse_qsl(urlsplit(url).query))
    assert params["method"] == "alipay.trade.page.pay" and '"total_amount":"699.00"' in params["biz_content"]
    assert keys["app"].verifies(alipay_string(params, ("sign",)), params["sign"])


# --- turned on from the environment -------------------------------------------------------------------------------


def test_a_provider_is_off_until_all_its_settings_are_there(tmp_path: Path, keys: dict[str, KeyPair],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "ACTIVE", {})
    lines = registry.load({"LIANDONG_WECHATPAY_MCHID": MCHID})
    assert lines[0].startswith("WeChat Pay: off (LIANDONG_WECHATPAY_APPID, ")
    assert lines[1].startswith("Alipay: off (LIANDONG_ALIPAY_APPID, ")
    assert registry.provider("wechatpay") is None and registry.provider("alipay") is None
    files = env_files(str(tmp_path), merchant=keys["merchant"].private_pem, platform=keys["platform"].public_pem,
                      app=keys["app"].private_pem, alipay=keys["alipay"].public_pem)
    lines = registry.load({
        "LIANDONG_WECHATPAY_MCHID": MCHID, "LIANDONG_WECHATPAY_APPID": APPID,
        "LIANDONG_WECHATPAY_APIV3_KEY": APIV3_KEY, "LIANDONG_WECHATPAY_PRIVATE_KEY": files["merchant"],
        "LIANDONG_WECHATPAY_CERT_SERIAL": CERT_SERIAL, "LIANDONG_WECHATPAY_PLATFORM_PUBLIC_KEY": files["platform"],
        "LIANDONG_WECHATPAY_PLATFORM_PUBLIC_KEY_ID": PLATFORM_KEY_ID, "LIANDONG_ALIPAY_APPID": ALIPAY_APPID,
        "LIANDONG_ALIPAY_APP_PRIVATE_KEY": files["app"], "LIANDONG_ALIPAY_PUBLIC_KEY": files["alipay"]},
        base_url="https://shop.example")
    assert lines == [f"WeChat Pay: on (merchant {MCHID})", f"Alipay: on (app {ALIPAY_APPID})"]
    assert isinstance(registry.provider("wechatpay"), WeChatPayProvider)
    assert isinstance(registry.provider("alipay"), AlipayProvider)


def test_an_unreadable_key_file_leaves_the_provider_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "ACTIVE", {})
    env = {"LIANDONG_ALIPAY_APPID": ALIPAY_APPID, "LIANDONG_ALIPAY_APP_PRIVATE_KEY": str(tmp_path / "none.pem"),
           "LIANDONG_ALIPAY_PUBLIC_KEY": str(tmp_path / "none.pem")}
    lines = registry.load(env)
    assert lines[1].startswith("Alipay: off (") and "none.pem" in lines[1]
    assert registry.provider("alipay") is None
