"""Alipay through ``python-alipay-sdk``: page and wap pay, the async notification, refunds.

The notification is form-encoded; its ``sign`` is RSA2 (SHA256withRSA) over the other parameters sorted by name,
``sign`` and ``sign_type`` left out, checked by the SDK with Alipay's public key. On top of it: ``sign_type`` must
be RSA2, ``app_id`` ours, the trade succeeded (``TRADE_SUCCESS`` or ``TRADE_FINISHED``), the amount is read to the
fen. The reply Alipay waits for is the plain text ``success``; it retries anything else over about a day, so there is
no timestamp window here: a repeat is recognised by its ``trade_no``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from alipay import AliPay

from ...engine.money import format_fen, parse_yuan
from .base import NotificationRefused, PaymentNotice, ProviderError, RefundResult
from .payouts import PayoutResult, alipay_result, bill_no

SUCCEEDED = ("TRADE_SUCCESS", "TRADE_FINISHED")


class AlipayProvider:
    """One app's Alipay, with the app's private key and Alipay's public key (RSA2)."""

    name = "alipay"

    def __init__(self, *, appid: str, app_private_key: str, alipay_public_key: str,
                 notify_url: str | None = None, sandbox: bool = False) -> None:
        self.appid = appid
        self.client = AliPay(appid=appid, app_notify_url=notify_url, app_private_key_string=app_private_key,
                             alipay_public_key_string=alipay_public_key, sign_type="RSA2", debug=sandbox)

    def pay_url(self, *, out_trade_no: str, amount: int, subject: str, channel: Literal["page", "wap"],
                return_url: str | None = None) -> str:
        """The gateway URL that opens the payment: ``page`` for a computer, ``wap`` for a phone's browser."""
        call = (self.client.api_alipay_trade_page_pay if channel == "page" else self.client.api_alipay_trade_wap_pay)
        query = call(subject=subject, out_trade_no=out_trade_no, total_amount=format_fen(amount),
                     return_url=return_url)
        return f"{self.client._gateway}?{query}"

    def parse_notification(self, form: Mapping[str, str]) -> PaymentNotice:
        """The verified payment in an async notification, or ``NotificationRefused`` naming why not."""
        data = dict(form)
        signature = data.pop("sign", "")
        sign_type = data.pop("sign_type", "")
        if not signature:
            raise NotificationRefused("no sign")
        if sign_type != "RSA2":
            raise NotificationRefused(f"sign_type {sign_type!r} is not RSA2")
        try:
            valid = self.client.verify(data, signature)
        except Exception as exc:  # a sign that is not base64, a bad key
            raise NotificationRefused(f"unreadable sign: {exc}") from None
        if not valid:
            raise NotificationRefused("sign does not verify over the parameters")
        if data.get("app_id") != self.appid:
            raise NotificationRefused(f"app_id {data.get('app_id')!r} is not ours")
        if data.get("trade_status") not in SUCCEEDED:
            raise NotificationRefused(f"not a succeeded payment: {data.get('trade_status')}")
        try:
            amount = parse_yuan(data.get("total_amount", ""))
        except Exception:
            raise NotificationRefused(f"total_amount {data.get('total_amount')!r} is not money") from None
        return PaymentNotice(provider=self.name, transaction_id=data.get("trade_no", ""),
                             out_trade_no=data.get("out_trade_no", ""), amount=amount,
                             currency=data.get("trans_currency") or "CNY", raw=data)

    def refund(self, *, out_trade_no: str, transaction_id: str, refund_no: str, amount: int, total: int,
               reason: str) -> RefundResult:
        """Refund ``amount`` fen of the trade (``out_request_no`` makes a retried refund the same refund)."""
        try:
            extra = {"refund_reason": reason} if reason else {}
            answer: dict[str, Any] = self.client.api_alipay_trade_refund(
                refund_amount=format_fen(amount), trade_no=transaction_id, out_request_no=refund_no, **extra)
        except Exception as exc:  # AliPayException (an error answer), AliPayValidationError (a bad signature)
            raise ProviderError(f"alipay refund {refund_no}: {exc!r}") from exc
        if answer.get("code") != "10000":
            raise ProviderError(f"alipay refund {refund_no}: {answer.get('code')} {answer.get('sub_msg', '')}")
        state = "SUCCESS" if answer.get("fund_change") == "Y" else "PROCESSING"  # Y: the money has moved
        return RefundResult(provider=self.name, refund_no=refund_no, provider_refund_id=str(answer.get("trade_no")),
                            amount=amount, state=state)

    def transfer(self, *, withdrawal: str, logon_id: str, name: str | None, amount: int,
                 title: str) -> PayoutResult:
        """单笔转账 of ``amount`` fen to an Alipay account (its logon id: a phone number or e-mail), bill number the
        withdrawal id. Alipay takes fund transfers only from an app in certificate mode (公钥证书): see
        docs/payments.md."""
        payee = {"identity": logon_id, "identity_type": "ALIPAY_LOGON_ID", **({"name": name} if name else {})}
        biz = {"out_biz_no": bill_no(withdrawal), "trans_amount": format_fen(amount),
               "product_code": "TRANS_ACCOUNT_NO_PWD", "biz_scene": "DIRECT_TRANSFER", "order_title": title,
               "payee_info": payee}
        return alipay_result(withdrawal, self._server_call("alipay.fund.trans.uni.transfer", biz, withdrawal))

    def query_transfer(self, withdrawal: str) -> PayoutResult:
        """The transfer's state now (``alipay.fund.trans.common.query``)."""
        biz = {"out_biz_no": bill_no(withdrawal), "product_code": "TRANS_ACCOUNT_NO_PWD",
               "biz_scene": "DIRECT_TRANSFER"}
        return alipay_result(withdrawal, self._server_call("alipay.fund.trans.common.query", biz, withdrawal))

    def _server_call(self, method: str, biz: dict[str, Any], withdrawal: str) -> dict[str, Any]:
        """A signed call through the SDK. A business refusal comes signed, with its ``code`` and ``sub_code``, and
        is given back; an answer not signed by Alipay (the SDK's AliPayException, AliPayValidationError) is not
        believed: ``ProviderError``."""
        try:
            return dict(self.client.server_api(method, biz))
        except Exception as exc:
            raise ProviderError(f"alipay {method} {withdrawal}: {exc!r}") from exc
