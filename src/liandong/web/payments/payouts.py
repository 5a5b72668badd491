"""Approved withdrawals paid out through a provider's transfer, each payout's state tracked on the log.

A withdrawal approved with its payout to come (``approve_withdrawal`` with ``paid_out: false``) keeps its amount in
``withdrawing``. ``send`` asks the provider to transfer the net amount to the member's payee: WeChat Pay's 商家转账
(``mch_transfer_bills``: the member then confirms it in WeChat, ``WAIT_USER_CONFIRM``, with the ``package_info``
the page hands to WeChat's JSAPI), or Alipay's 单笔转账 (``alipay.fund.trans.uni.transfer``). The provider's answer,
or a later ``query``, is one of three states:

- ``sent``: accepted, waiting (WeChat ``ACCEPTED``, ``PROCESSING``, ``WAIT_USER_CONFIRM``, ``TRANSFERING``,
  ``CANCELING``; Alipay ``DEALING``, ``WAIT_PAY``): nothing is logged, the money stays ``withdrawing``;
- ``confirmed``: the money left (``SUCCESS``): ``record`` logs ``mark_withdrawal_paid`` with the provider's
  reference, and the amount moves to ``withdrawn``;
- ``failed`` (WeChat ``FAIL``, ``CANCELLED``; Alipay ``FAIL``, ``CLOSED``, or an error answer refusing the
  transfer): ``record`` logs ``fail_payout`` with the provider's reason, and the amount returns to available.

The withdrawal id is the merchant's bill number (``out_bill_no`` / ``out_biz_no``), so sending twice is the same
transfer at the provider, and each event is keyed on the withdrawal and the state, so recording twice logs once.
A payee that is a bank account is not sent here: it goes in the payout CSV (``/office/withdrawals``).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from ...service.log import append_event
from ...service.store.models import LoggedEvent
from .base import ProviderError

PayoutState = Literal["sent", "confirmed", "failed"]
WECHAT_STATES: dict[str, PayoutState] = {
    "ACCEPTED": "sent", "PROCESSING": "sent", "WAIT_USER_CONFIRM": "sent", "TRANSFERING": "sent",
    "CANCELING": "sent", "SUCCESS": "confirmed", "FAIL": "failed", "CANCELLED": "failed"}
ALIPAY_STATES: dict[str, PayoutState] = {"DEALING": "sent", "WAIT_PAY": "sent", "SUCCESS": "confirmed",
                                         "FAIL": "failed", "CLOSED": "failed"}
#: A merchant bill number as both providers take it: letters and digits.
BILL_NO = re.compile(r"[A-Za-z0-9]{1,32}", re.ASCII)
#: The reason a failed payout keeps (the engine's limit for a withdrawal's reason).
REASON_MAX = 200


@dataclass(frozen=True)
class PayoutResult:
    provider: str
    withdrawal: str
    state: PayoutState
    provider_state: str
    reference: str = ""  # the provider's transfer bill number / order id
    reason: str = ""  # a failure's, as the provider says it
    package_info: str = ""  # WeChat's WAIT_USER_CONFIRM: what the member's WeChat opens to confirm


def bill_no(withdrawal: str) -> str:
    if not BILL_NO.fullmatch(withdrawal):
        raise ProviderError(f"withdrawal {withdrawal!r} is not a bill number the providers take (letters, digits)")
    return withdrawal


def wechat_result(withdrawal: str, answer: dict[str, Any]) -> PayoutResult:
    """A WeChat Pay transfer bill (the answer to sending it, or to querying it) as a payout state."""
    state = str(answer.get("state", ""))
    if state not in WECHAT_STATES:
        raise ProviderError(f"wechatpay transfer {withdrawal}: unknown state {state!r}")
    return PayoutResult(provider="wechatpay", withdrawal=withdrawal, state=WECHAT_STATES[state], provider_state=state,
                        reference=str(answer.get("transfer_bill_no", "")),
                        reason=str(answer.get("fail_reason", "") or (state if WECHAT_STATES[state] == "failed"
                                                                     else "")),
                        package_info=str(answer.get("package_info", "")))


def alipay_result(withdrawal: str, answer: dict[str, Any]) -> PayoutResult:
    """An Alipay transfer's answer as a payout state (``status``; an error answer is a failure with its message)."""
    if answer.get("code") not in (None, "10000"):
        return PayoutResult(provider="alipay", withdrawal=withdrawal, state="failed",
                            provider_state=str(answer.get("sub_code", answer.get("code"))),
                            reason=f"{answer.get('sub_code', '')} {answer.get('sub_msg', answer.get('msg', ''))}"
                                   .strip())
    state = str(answer.get("status", ""))
    if state not in ALIPAY_STATES:
        raise ProviderError(f"alipay transfer {withdrawal}: unknown status {state!r}")
    return PayoutResult(provider="alipay", withdrawal=withdrawal, state=ALIPAY_STATES[state], provider_state=state,
                        reference=str(answer.get("order_id", "")),
                        reason=state if ALIPAY_STATES[state] == "failed" else "")


def record(result: PayoutResult) -> LoggedEvent | None:
    """Log what a confirmed or failed payout means for the withdrawal; nothing for one still ``sent``."""
    if result.state == "sent":
        return None
    if result.state == "confirmed":
        verb, fields = "mark_withdrawal_paid", {"withdrawal": result.withdrawal,
                                                "reference": f"{result.provider}:{result.reference}"}
    else:
        reason = (result.reason or result.provider_state or "the provider refused the transfer").strip()
        verb, fields = "fail_payout", {"withdrawal": result.withdrawal,
                                       "reason": f"{result.provider}: {reason}"[:REASON_MAX]}
    digest = hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()
    return append_event(verb, fields, key=f"payout:{result.provider}:{result.withdrawal}:{result.state}",
                        request_hash=digest, actor=f"payout:{result.provider}")


#: The payee prefixes a member gives (``wechat:<openid>``, ``alipay:<logon id>``) and the provider that pays them.
PAYEE_PROVIDERS = {"wechat": "wechatpay", "alipay": "alipay"}


def send(withdrawal: str, *, remark: str = "佣金提现", scene_report: list[dict[str, str]] | None = None,
         payee_name: str | None = None) -> PayoutResult:
    """Pay an approved withdrawal whose payout is pending through the provider its payee names, and record the
    state. Sending again sends the same bill (the provider answers with its state now), so this is also how a
    payout's state is refreshed."""
    from ...service.store.models import WithdrawalState
    from . import registry

    w = WithdrawalState.objects.filter(withdrawal=withdrawal).first()
    if w is None:
        raise ProviderError(f"no withdrawal {withdrawal}")
    if w.status != "approved" or not w.payout_pending:
        raise ProviderError(f"withdrawal {withdrawal} is {w.status}: only an approved one whose payout is pending "
                            "is sent")
    scheme, _, account = (w.payee or "").partition(":")
    name = PAYEE_PROVIDERS.get(scheme)
    if name is None or not account:
        raise ProviderError(f"withdrawal {withdrawal}: payee {w.payee!r} is not wechat:<openid> or "
                            "alipay:<account>: pay it by the bank batch file (/office/withdrawals)")
    provider = registry.provider(name)
    if provider is None:
        raise ProviderError(f"withdrawal {withdrawal}: {name} is off (docs/payments.md)")
    net = w.amount - w.fee
    if name == "wechatpay":
        result: PayoutResult = provider.transfer(withdrawal=withdrawal, openid=account, amount=net, remark=remark,
                                                 scene_report=scene_report)
    else:
        result = provider.transfer(withdrawal=withdrawal, logon_id=account, name=payee_name, amount=net,
                                   title=remark)
    record(result)
    return result
