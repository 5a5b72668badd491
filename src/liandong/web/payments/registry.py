"""Which providers are on: each from its ``LIANDONG_WECHATPAY_*`` / ``LIANDONG_ALIPAY_*`` settings, off (and saying
which are missing) while any is absent. The key settings are paths of PEM files. ``LIANDONG_PUBLIC_URL`` (the shop's
address as the providers reach it, ``https://shop.example``) makes the notify URLs sent with orders and refunds.
Each process loads them once, at its first notification (``liandong run`` and ``serve`` also at start, to say
which are on)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .alipay_provider import AlipayProvider
from .wechatpay import WeChatPayProvider

WECHATPAY = {"mchid": "LIANDONG_WECHATPAY_MCHID", "appid": "LIANDONG_WECHATPAY_APPID",
             "apiv3_key": "LIANDONG_WECHATPAY_APIV3_KEY", "private_key": "LIANDONG_WECHATPAY_PRIVATE_KEY",
             "cert_serial": "LIANDONG_WECHATPAY_CERT_SERIAL",
             "platform_public_key": "LIANDONG_WECHATPAY_PLATFORM_PUBLIC_KEY",
             "platform_public_key_id": "LIANDONG_WECHATPAY_PLATFORM_PUBLIC_KEY_ID"}
ALIPAY = {"appid": "LIANDONG_ALIPAY_APPID", "app_private_key": "LIANDONG_ALIPAY_APP_PRIVATE_KEY",
          "alipay_public_key": "LIANDONG_ALIPAY_PUBLIC_KEY"}
PATHS = {"private_key", "platform_public_key", "app_private_key", "alipay_public_key"}

#: The providers on in this process (``load`` fills it; tests put their own in, with ``LOADED`` true).
ACTIVE: dict[str, Any] = {}
LOADED = False


def _settings(names: Mapping[str, str], env: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    missing = [var for var in names.values() if not env.get(var)]
    values = {key: env.get(var, "") for key, var in names.items()}
    if missing:
        return values, missing
    for key in PATHS & values.keys():
        if values[key]:
            values[key] = Path(values[key]).read_text()
    return values, missing


def load(env: Mapping[str, str] | None = None, base_url: str | None = None) -> list[str]:
    """Turn on each provider whose settings are all there; one line per provider saying on or off and why."""
    global LOADED
    env = os.environ if env is None else env
    base_url = (env.get("LIANDONG_PUBLIC_URL", "") if base_url is None else base_url).rstrip("/")
    LOADED = True
    lines = []
    for name, title, names, make in (("wechatpay", "WeChat Pay", WECHATPAY, _wechatpay),
                                     ("alipay", "Alipay", ALIPAY, _alipay)):
        ACTIVE.pop(name, None)
        try:
            values, missing = _settings(names, env)
            if missing:
                lines.append(f"{title}: off ({', '.join(missing)} not set)")
                continue
            ACTIVE[name], who = make(values, base_url)
        except Exception as exc:  # an unreadable PEM file, a key the SDK cannot load
            lines.append(f"{title}: off ({exc})")
            continue
        lines.append(f"{title}: on ({who})")
    return lines


def _wechatpay(values: dict[str, str], base_url: str) -> tuple[WeChatPayProvider, str]:
    provider = WeChatPayProvider(
        mchid=values["mchid"], appid=values["appid"], apiv3_key=values["apiv3_key"],
        private_key=values["private_key"], cert_serial=values["cert_serial"],
        platform_public_key=values["platform_public_key"], platform_public_key_id=values["platform_public_key_id"],
        notify_url=f"{base_url}/api/payments/wechatpay/notify" if base_url else None)
    return provider, f"merchant {values['mchid']}"


def _alipay(values: dict[str, str], base_url: str) -> tuple[AlipayProvider, str]:
    provider = AlipayProvider(appid=values["appid"], app_private_key=values["app_private_key"],
                              alipay_public_key=values["alipay_public_key"],
                              notify_url=f"{base_url}/api/payments/alipay/notify" if base_url else None)
    return provider, f"app {values['appid']}"


def provider(name: str) -> Any | None:
    """The provider ``name`` if it is on."""
    if not LOADED:
        load()
    return ACTIVE.get(name)
