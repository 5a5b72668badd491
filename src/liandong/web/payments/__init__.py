"""Payments in through real providers: WeChat Pay API v3 (``wechatpayv3``) and Alipay (``python-alipay-sdk``).

``base`` holds what every provider gives (a verified ``PaymentNotice``, a ``RefundResult``, the refusal with its
reason), ``wechatpay`` and ``alipay_provider`` wrap the SDKs, ``registry`` turns a provider on from the environment,
and ``notices`` binds a verified notice to our order (amount, currency, out-trade-no, the provider's transaction id
as the event key, so a repeated notice never logs a second reward). The demo provider stays in ``api/payments.py``.
"""
