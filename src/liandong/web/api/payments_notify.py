"""The providers' payment notifications: ``POST /api/payments/wechatpay/notify`` and
``POST /api/payments/alipay/notify``.

Each is verified by the provider's SDK and by us (``web/payments``), then bound to our order. WeChat Pay is
answered ``{"code": "SUCCESS"}`` (a refusal: 400 with ``{"code": "FAIL", "message": <reason>}``, so it retries);
Alipay the plain text ``success`` (a refusal: ``fail``, also with 200, as Alipay reads only the text). A provider
that is off answers 404. A duplicate is acknowledged and logs nothing new. Neither carries our ``Idempotency-Key``
or a session: the signature is the authentication.
"""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Router

from ..payments import registry
from ..payments.base import NotificationRefused
from ..payments.notices import accept, refused

router = Router(tags=["payments"])

_ANSWER = {"type": "object", "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
           "required": ["code"]}
_OFF = {"description": "the provider is off (its settings are absent)",
        "content": {"application/json": {"schema": _ANSWER}}}
WECHATPAY_ANSWERS = {"responses": {
    "200": {"description": "accepted (or a duplicate, acknowledged)",
            "content": {"application/json": {"schema": _ANSWER}}},
    "400": {"description": "refused, with the reason: WeChat Pay retries",
            "content": {"application/json": {"schema": _ANSWER}}},
    "404": _OFF}}
ALIPAY_ANSWERS = {"responses": {
    "200": {"description": "`success` when accepted (or a duplicate), `fail` when refused",
            "content": {"text/plain": {"schema": {"type": "string", "enum": ["success", "fail"]}}}},
    "404": _OFF}}


@router.post("/payments/wechatpay/notify", auth=None, url_name="wechatpay_notify",
             openapi_extra=WECHATPAY_ANSWERS)
def wechatpay_notify(request: HttpRequest) -> HttpResponse:
    """WeChat Pay's payment notification (signed headers, encrypted ``resource``)."""
    provider = registry.provider("wechatpay")
    if provider is None:
        return JsonResponse({"code": "FAIL", "message": "WeChat Pay is off"}, status=404)
    out_trade_no = ""
    try:
        notice = provider.parse_notification(request.headers, request.body)
        out_trade_no = notice.out_trade_no
        accept(request, notice)
    except NotificationRefused as exc:
        refused("wechatpay", exc.reason, out_trade_no)
        return JsonResponse({"code": "FAIL", "message": exc.reason}, status=400)
    return HttpResponse(json.dumps({"code": "SUCCESS"}), content_type="application/json")


@router.post("/payments/alipay/notify", auth=None, url_name="alipay_notify", openapi_extra=ALIPAY_ANSWERS)
def alipay_notify(request: HttpRequest) -> HttpResponse:
    """Alipay's async notification (form-encoded, RSA2 ``sign``)."""
    provider = registry.provider("alipay")
    if provider is None:
        return JsonResponse({"code": "FAIL", "message": "Alipay is off"}, status=404)
    form = {key: request.POST.get(key, "") for key in request.POST}
    try:
        accept(request, provider.parse_notification(form))
    except NotificationRefused as exc:
        refused("alipay", exc.reason, form.get("out_trade_no", ""))
        return HttpResponse("fail", content_type="text/plain")  # Alipay reads the text: anything but success
    return HttpResponse("success", content_type="text/plain")
