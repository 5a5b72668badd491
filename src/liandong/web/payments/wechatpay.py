"""WeChat Pay API v3 through ``wechatpayv3``: JSAPI, H5 and Native orders, the payment notification, refunds.

The SDK verifies a notification's ``Wechatpay-Signature`` over ``timestamp\\nnonce\\nbody\\n`` with the platform
public key and decrypts its AES-256-GCM ``resource`` with the API v3 key. On top of it: the serial must name our
platform key (otherwise the SDK would go and download certificates), the timestamp must be within ±300 s (the SDK
takes a month-old one), a nonce seen before is a replay, and the decrypted transaction must be ours (mchid, appid)
and succeeded.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal

from django.core.cache import cache
from wechatpayv3 import WeChatPay, WeChatPayType

from .base import NotificationRefused, PaymentNotice, ProviderError, RefundResult
from .payouts import PayoutResult, bill_no, wechat_result

HEADERS = ("Wechatpay-Signature", "Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Serial",
           "Wechatpay-Signature-Type")
CHANNELS: dict[str, WeChatPayType] = {"jsapi": WeChatPayType.JSAPI, "h5": WeChatPayType.H5,
                                      "native": WeChatPayType.NATIVE}


class WeChatPayProvider:
    """One merchant's WeChat Pay, with the platform public key given (no certificate download)."""

    name = "wechatpay"

    def __init__(self, *, mchid: str, appid: str, apiv3_key: str, private_key: str, cert_serial: str,
                 platform_public_key: str, platform_public_key_id: str, notify_url: str | None = None,
                 tolerance: int = 300, clock: Callable[[], float] = time.time) -> None:
        self.mchid, self.appid, self.platform_public_key_id = mchid, appid, platform_public_key_id
        self.tolerance, self.clock = tolerance, clock
        self.client = WeChatPay(wechatpay_type=WeChatPayType.NATIVE, mchid=mchid, private_key=private_key,
                                cert_serial_no=cert_serial, appid=appid, apiv3_key=apiv3_key,
                                notify_url=notify_url, timeout=(10, 30), public_key=platform_public_key,
                                public_key_id=platform_public_key_id)

    def create_order(self, *, out_trade_no: str, amount: int, description: str,
                     channel: Literal["jsapi", "h5", "native"], openid: str | None = None,
                     client_ip: str | None = None) -> dict[str, Any]:
        """Place an order: JSAPI gives ``prepay_id`` (needs the payer's ``openid``), H5 ``h5_url`` (needs the
        client's IP), Native ``code_url`` (the QR code)."""
        payer = {"openid": openid} if channel == "jsapi" and openid else None
        scene = {"payer_client_ip": client_ip, "h5_info": {"type": "Wap"}} if channel == "h5" and client_ip else None
        try:
            code, text = self.client.pay(description=description, out_trade_no=out_trade_no,
                                         amount={"total": amount, "currency": "CNY"}, payer=payer,
                                         scene_info=scene, pay_type=CHANNELS[channel])
        except Exception as exc:  # the SDK raises bare Exception for a missing payer, a bad answer signature …
            raise ProviderError(f"wechatpay order {out_trade_no}: {exc}") from exc
        return _answer(code, text, f"order {out_trade_no}")

    def parse_notification(self, headers: Mapping[str, str], body: bytes) -> PaymentNotice:
        """The verified payment in a notification, or ``NotificationRefused`` naming why not."""
        given = {name: headers.get(name, "") or "" for name in HEADERS}
        stamp = given["Wechatpay-Timestamp"]
        if not stamp.isascii() or not stamp.isdigit() or len(stamp) > 12:
            raise NotificationRefused("Wechatpay-Timestamp is not a Unix time")
        age = self.clock() - int(stamp)
        if abs(age) > self.tolerance:
            raise NotificationRefused(f"stale: Wechatpay-Timestamp is {int(age)} s from now "
                                      f"(at most {self.tolerance})")
        if given["Wechatpay-Serial"] != self.platform_public_key_id:
            raise NotificationRefused(f"Wechatpay-Serial {given['Wechatpay-Serial']!r} is not our platform key")
        if given["Wechatpay-Signature-Type"] != "WECHATPAY2-SHA256-RSA2048":
            raise NotificationRefused("Wechatpay-Signature-Type is not WECHATPAY2-SHA256-RSA2048")
        try:
            text = body.decode("utf-8")
            result = self.client.callback(given, text)
        except Exception as exc:  # undecodable body, unsupported algorithm (the SDK raises bare Exception)
            raise NotificationRefused(f"unreadable notification: {exc}") from None
        if not result:
            raise NotificationRefused("Wechatpay-Signature or the encrypted resource does not verify")
        if not cache.add(f"wechatpay-nonce:{given['Wechatpay-Nonce']}", 1, timeout=2 * self.tolerance):
            raise NotificationRefused("replayed: Wechatpay-Nonce seen before")
        resource = result.get("resource") or {}
        if result.get("event_type") != "TRANSACTION.SUCCESS" or resource.get("trade_state") != "SUCCESS":
            raise NotificationRefused(f"not a succeeded payment: {result.get('event_type')} "
                                      f"{resource.get('trade_state')}")
        if resource.get("mchid") != self.mchid or resource.get("appid") != self.appid:
            raise NotificationRefused("the transaction is for another merchant or app")
        amount = resource.get("amount") or {}
        total = amount.get("total")
        if not isinstance(total, int) or isinstance(total, bool):
            raise NotificationRefused("amount.total is not an integer of fen")
        return PaymentNotice(provider=self.name, transaction_id=str(resource.get("transaction_id", "")),
                             out_trade_no=str(resource.get("out_trade_no", "")), amount=total,
                             currency=str(amount.get("currency", "")), raw=resource)

    def refund(self, *, out_trade_no: str, transaction_id: str, refund_no: str, amount: int, total: int,
               reason: str) -> RefundResult:
        """Refund ``amount`` fen of a payment of ``total``; the answer's ``status`` is its state."""
        try:
            code, text = self.client.refund(out_refund_no=refund_no, transaction_id=transaction_id,
                                            amount={"refund": amount, "total": total, "currency": "CNY"},
                                            reason=reason or None)
        except Exception as exc:
            raise ProviderError(f"wechatpay refund {refund_no}: {exc}") from exc
        answer = _answer(code, text, f"refund {refund_no}")
        refunded = (answer.get("amount") or {}).get("refund")
        if refunded != amount:
            raise ProviderError(f"wechatpay refund {refund_no}: refunded {refunded} fen, asked {amount}")
        return RefundResult(provider=self.name, refund_no=refund_no, provider_refund_id=str(answer["refund_id"]),
                            amount=amount, state=str(answer.get("status", "")))

    def transfer(self, *, withdrawal: str, openid: str, amount: int, remark: str, scene_id: str = "1000",
                 scene_report: list[dict[str, str]] | None = None) -> PayoutResult:
        """商家转账 of ``amount`` fen to the member's ``openid``, bill number the withdrawal id. Usually
        ``WAIT_USER_CONFIRM``: the member confirms it in WeChat with the answer's ``package_info``."""
        try:
            code, text = self.client.mch_transfer_bills(
                out_bill_no=bill_no(withdrawal), transfer_scene_id=scene_id, openid=openid, transfer_amount=amount,
                transfer_remark=remark, transfer_scene_report_infos=scene_report or [])
        except ProviderError:
            raise
        except Exception as exc:
            raise ProviderError(f"wechatpay transfer {withdrawal}: {exc}") from exc
        return wechat_result(withdrawal, _answer(code, text, f"transfer {withdrawal}"))

    def query_transfer(self, withdrawal: str) -> PayoutResult:
        """The transfer's state now (after the member confirmed, or the bill expired)."""
        try:
            code, text = self.client.mch_transfer_bills_query(out_bill_no=bill_no(withdrawal))
        except ProviderError:
            raise
        except Exception as exc:
            raise ProviderError(f"wechatpay transfer {withdrawal}: {exc}") from exc
        return wechat_result(withdrawal, _answer(code, text, f"transfer {withdrawal}"))


def _answer(code: int, text: Any, what: str) -> dict[str, Any]:
    """The JSON of a 2xx answer, or ``ProviderError`` with the provider's code and message."""
    try:
        data = json.loads(text) if text else {}
    except (TypeError, ValueError):
        raise ProviderError(f"wechatpay {what}: HTTP {code}, not JSON") from None
    if not 200 <= code < 300:
        raise ProviderError(f"wechatpay {what}: HTTP {code} {data.get('code', '')} {data.get('message', '')}")
    return dict(data)
