"""Which providers are on: each from its ``LIANDONG_WECHATPAY_*`` / ``LIANDONG_ALIPAY_*`` settings, off (and saying
which are missing) while any is absent. The key settings are paths of PEM files."""

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

#: The providers on in this process (``load`` fills it; tests put their own in).
ACTIVE: dict[str, Any] = {}


def _settings(names: Mapping[str, str], env: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    missing = [var for var in names.values() if not env.get(var)]
    values = {key: env.get(var, "") for key, var in names.items()}
    for key in PATHS & values.keys():
        if values[key]:
            values[key] = Path(values[key]).read_text()
    return values, missing


def load(env: Mapping[str, str] | None = None, base_url: str = "") -> list[str]:
    """Turn on each provider whose settings are all there; one line per provider saying on or off and why."""
    env = os.environ if env is None else env
    lines = []
    wechat, missing = _settings(WECHATPAY, env)
    if missing:
        ACTIVE.pop("wechatpay", None)
        lines.append(f"WeChat Pay: off ({', '.join(missing)} not set)")
    else:
        ACTIVE["wechatpay"] = WeChatPayProvider(
            mchid=wechat["mchid"], appid=wechat["appid"], apiv3_key=wechat["apiv3_key"],
            private_key=wechat["private_key"], cert_serial=wechat["cert_serial"],
            platform_public_key=wechat["platform_public_key"],
            platform_public_key_id=wechat["platform_public_key_id"],
            notify_url=f"{base_url}/api/payments/wechatpay/notify" if base_url else None)
        lines.append(f"WeChat Pay: on (merchant {wechat['mchid']})")
    alipay, missing = _settings(ALIPAY, env)
    if missing:
        ACTIVE.pop("alipay", None)
        lines.append(f"Alipay: off ({', '.join(missing)} not set)")
    else:
        ACTIVE["alipay"] = AlipayProvider(
            appid=alipay["appid"], app_private_key=alipay["app_private_key"],
            alipay_public_key=alipay["alipay_public_key"],
            notify_url=f"{base_url}/api/payments/alipay/notify" if base_url else None)
        lines.append(f"Alipay: on (app {alipay['appid']})")
    return lines


def provider(name: str) -> Any | None:
    """The provider ``name`` if it is on."""
    return ACTIVE.get(name)
