"""Approved withdrawals paid out through WeChat Pay's 商家转账 and Alipay's 单笔转账, against fake servers at each
SDK's request boundary: the states sent, confirmed and failed; a confirmed payout moves the money to withdrawn, a
failed one returns it to available with the provider's reason; recording a state twice logs once."""

from __future__ import annotations

import alipay
import pytest
import wechatpayv3.core
from api_client import Caller, Register, buy
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
)

from liandong.service.store.models import LoggedEvent
from liandong.service.worker import drain
from liandong.web.payments import payouts, registry
from liandong.web.payments.alipay_provider import AlipayProvider
from liandong.web.payments.base import ProviderError
from liandong.web.payments.wechatpay import WeChatPayProvider

pytest_plugins = ["api_fixtures"]
pytestmark = pytest.mark.django_db

OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
SCENE = [{"info_type": "活动名称", "info_content": "推广奖励"}, {"info_type": "奖励说明", "info_content": "佣金提现"}]
BILLS = "/v3/fund-app/mch-transfer/transfer-bills"


@pytest.fixture(scope="module")
def keys() -> dict[str, KeyPair]:
    return {name: KeyPair.new() for name in ("platform", "merchant", "alipay", "app")}


@pytest.fixture
def wechat(keys: dict[str, KeyPair], monkeypatch: pytest.MonkeyPatch) -> tuple[WeChatPayProvider, WeChatPayServer]:
    server = WeChatPayServer(keys["platform"], keys["merchant"])
    monkeypatch.setattr(wechatpayv3.core, "requests", server)
    provider = WeChatPayProvider(mchid=MCHID, appid=APPID, apiv3_key=APIV3_KEY,
                                 private_key=keys["merchant"].private_pem, cert_serial=CERT_SERIAL,
                                 platform_public_key=keys["platform"].public_pem,
                                 platform_public_key_id=PLATFORM_KEY_ID,
                                 notify_url="https://shop.example/api/payments/wechatpay/notify")
    return provider, server


@pytest.fixture
def ali(keys: dict[str, KeyPair], monkeypatch: pytest.MonkeyPatch) -> tuple[AlipayProvider, AlipayServer]:
    server = AlipayServer(keys["alipay"], keys["app"])
    monkeypatch.setattr(alipay, "urlopen", server)
    return AlipayProvider(appid=ALIPAY_APPID, app_private_key=keys["app"].private_pem,
                          alipay_public_key=keys["alipay"].public_pem), server


@pytest.fixture
def approved(api_shop: None, register_member: Register, api_operator: Caller) -> tuple[Caller, str]:
    """Alice (100.00 for Bob's gift pack) asked 60.00, approved with the payout to come."""
    alice = register_member("alice")
    buy(alice)
    buy(register_member("bob", inviter=alice))
    asked = alice.post("/api/withdrawals", {"amount": "60.00", "payee": f"wechat:{OPENID}"})
    assert asked.status == 201, asked.body
    w = str(asked.body["withdrawal"])
    assert api_operator.post(f"/api/operator/withdrawals/{w}/approve").body["payout_pending"] is True
    return alice, w


def balances(caller: Caller) -> tuple[str, str, str]:
    b = caller.get("/api/me/balances").body
    return b["available"], b["withdrawing"], b["withdrawn"]


def test_a_wechat_transfer_waits_for_the_member_then_is_confirmed(
        approved: tuple[Caller, str], wechat: tuple[WeChatPayProvider, WeChatPayServer]) -> None:
    alice, w = approved
    provider, server = wechat
    server.answers[BILLS] = (200, {"out_bill_no": w, "transfer_bill_no": "1330000071100999991182020050700019480001",
                                   "create_time": "2026-12-04T19:00:00+08:00", "state": "WAIT_USER_CONFIRM",
                                   "package_info": "affffddafdfafddffda=="})
    sent = provider.transfer(withdrawal=w, openid=OPENID, amount=6000, remark="佣金提现", scene_report=SCENE)
    assert (sent.state, sent.provider_state, sent.package_info) == ("sent", "WAIT_USER_CONFIRM",
                                                                    "affffddafdfafddffda==")
    [(method, path, body)] = server.calls
    assert (method, path) == ("POST", BILLS) and body is not None
    assert (body["out_bill_no"], body["openid"], body["transfer_amount"], body["transfer_scene_id"]) == (
        w, OPENID, 6000, "1000")
    assert payouts.record(sent) is None and balances(alice) == ("40.00", "60.00", "0.00")  # still withdrawing
    bill = "1330000071100999991182020050700019480001"
    server.answers[f"{BILLS}/out-bill-no/{w}"] = (200, {"out_bill_no": w, "state": "SUCCESS",
                                                         "transfer_bill_no": bill})
    confirmed = provider.query_transfer(w)
    assert confirmed.state == "confirmed"
    payouts.record(confirmed)
    payouts.record(confirmed)  # recorded twice (a retried job): logged once
    drain()
    assert balances(alice) == ("40.00", "0.00", "60.00")
    assert alice.get(f"/api/withdrawals/{w}").body["status"] == "paid"
    assert LoggedEvent.objects.filter(verb="mark_withdrawal_paid").count() == 1


def test_a_failed_wechat_transfer_returns_the_money_with_the_reason(
        approved: tuple[Caller, str], wechat: tuple[WeChatPayProvider, WeChatPayServer]) -> None:
    alice, w = approved
    provider, server = wechat
    server.answers[f"{BILLS}/out-bill-no/{w}"] = (200, {"out_bill_no": w, "state": "FAIL",
                                                         "fail_reason": "PAYEE_ACCOUNT_ABNORMAL"})
    failed = provider.query_transfer(w)
    assert (failed.state, failed.reason) == ("failed", "PAYEE_ACCOUNT_ABNORMAL")
    payouts.record(failed)
    drain()
    assert balances(alice) == ("100.00", "0.00", "0.00")
    shown = alice.get(f"/api/withdrawals/{w}").body
    assert (shown["status"], shown["reason"], shown["label"]) == ("payout_failed",
                                                                  "wechatpay: PAYEE_ACCOUNT_ABNORMAL",
                                                                  "payout failed, returned")
    statement = alice.get("/api/me/statement?order=newest&limit=1").body["lines"]
    assert (statement[0]["rule"], statement[0]["book"], statement[0]["amount"]) == ("payout_failed", "available",
                                                                                    "60.00")


def test_an_alipay_transfer_confirmed_or_refused(approved: tuple[Caller, str],
                                                 ali: tuple[AlipayProvider, AlipayServer]) -> None:
    alice, w = approved
    provider, server = ali
    server.answers["alipay.fund.trans.uni.transfer"] = {"code": "40004", "msg": "Business Failed",
                                                        "sub_code": "PAYEE_NOT_EXIST", "sub_msg": "收款账号不存在"}
    refused = provider.transfer(withdrawal=w, logon_id="13800000000", name="张三", amount=6000, title="佣金提现")
    assert (refused.state, refused.reason) == ("failed", "PAYEE_NOT_EXIST 收款账号不存在")
    [call] = server.calls
    assert call["biz_content"]["trans_amount"] == "60.00" and call["biz_content"]["out_biz_no"] == w
    assert call["biz_content"]["payee_info"] == {"identity": "13800000000", "identity_type": "ALIPAY_LOGON_ID",
                                                 "name": "张三"}
    payouts.record(refused)
    drain()
    assert balances(alice) == ("100.00", "0.00", "0.00")


def test_an_alipay_transfer_that_succeeds_moves_the_money_out(approved: tuple[Caller, str],
                                                              ali: tuple[AlipayProvider, AlipayServer]) -> None:
    alice, w = approved
    provider, server = ali
    server.answers["alipay.fund.trans.uni.transfer"] = {"code": "10000", "msg": "Success", "out_biz_no": w,
                                                        "order_id": "20261204110070000006210000001",
                                                        "pay_fund_order_id": "20261204110070001506210000001",
                                                        "status": "SUCCESS", "trans_date": "2026-12-04 19:00:00"}
    done = provider.transfer(withdrawal=w, logon_id="13800000000", name=None, amount=6000, title="佣金提现")
    assert (done.state, done.reference) == ("confirmed", "20261204110070000006210000001")
    payouts.record(done)
    drain()
    assert balances(alice) == ("40.00", "0.00", "60.00")
    assert alice.get(f"/api/withdrawals/{w}").body["reference"] == "alipay:20261204110070000006210000001"


def test_a_bill_number_the_providers_do_not_take_is_refused_before_any_call(
        wechat: tuple[WeChatPayProvider, WeChatPayServer]) -> None:
    provider, server = wechat
    with pytest.raises(ProviderError, match="bill number"):
        provider.transfer(withdrawal="w-1:x", openid=OPENID, amount=100, remark="r", scene_report=SCENE)
    assert server.calls == []


def test_send_pays_through_the_provider_the_payee_names_and_refreshes_its_state(
        approved: tuple[Caller, str], wechat: tuple[WeChatPayProvider, WeChatPayServer],
        monkeypatch: pytest.MonkeyPatch) -> None:
    alice, w = approved
    provider, server = wechat
    monkeypatch.setattr(registry, "LOADED", True)
    monkeypatch.setattr(registry, "ACTIVE", {"wechatpay": provider})
    server.answers[BILLS] = (200, {"out_bill_no": w, "transfer_bill_no": "1330", "state": "WAIT_USER_CONFIRM",
                                   "package_info": "pkg"})
    assert payouts.send(w, scene_report=SCENE).state == "sent"
    assert server.calls[0][2] is not None and server.calls[0][2]["openid"] == OPENID
    server.answers[BILLS] = (200, {"out_bill_no": w, "transfer_bill_no": "1330", "state": "CANCELLED",
                                   "fail_reason": "the member did not confirm in time"})
    assert payouts.send(w, scene_report=SCENE).state == "failed"  # the same bill sent again: its state now
    drain()
    assert balances(alice) == ("100.00", "0.00", "0.00")
    with pytest.raises(ProviderError, match="payout_failed"):
        payouts.send(w)


def test_a_bank_payee_or_a_provider_that_is_off_is_not_sent(api_shop: None, register_member: Register,
                                                             api_operator: Caller,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "LOADED", True)
    monkeypatch.setattr(registry, "ACTIVE", {})
    alice = register_member("alice")
    buy(alice)
    buy(register_member("bob", inviter=alice))
    bank = alice.post("/api/withdrawals", {"amount": "20.00", "payee": "bank:6222020200112233445"}).body["withdrawal"]
    wallet = alice.post("/api/withdrawals", {"amount": "20.00", "payee": f"wechat:{OPENID}"}).body["withdrawal"]
    with pytest.raises(ProviderError, match="requested"):
        payouts.send(bank)
    for w in (bank, wallet):
        api_operator.post(f"/api/operator/withdrawals/{w}/approve")
    with pytest.raises(ProviderError, match="bank batch file"):
        payouts.send(bank)
    with pytest.raises(ProviderError, match="wechatpay is off"):
        payouts.send(wallet)
