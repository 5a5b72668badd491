"""The payment platforms, played offline with self-generated RSA key pairs: WeChat Pay's platform key signs
notifications and answers, "Alipay's" key signs its notifications and answers. Each fake server sits at its SDK's
request boundary (``wechatpayv3.core.requests``, ``alipay.urlopen``), checks the merchant's signature on what it
receives with the merchant's public key, and records every call: no test reaches the network."""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

APIV3_KEY = "0123456789abcdef0123456789abcdef"  # 32 bytes: AES-256
MCHID, APPID, PLATFORM_KEY_ID, CERT_SERIAL = "1900000109", "wxd678efh567hg6787", "PUB_KEY_ID_0114", "5157F09EFDC0"
ALIPAY_APPID = "2021000000000001"


@dataclass
class KeyPair:
    private: rsa.RSAPrivateKey

    @classmethod
    def new(cls) -> KeyPair:
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=2048))

    @property
    def private_pem(self) -> str:
        return self.private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()).decode()

    @property
    def public_pem(self) -> str:
        return self.private.public_key().public_bytes(serialization.Encoding.PEM,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    def sign(self, message: str) -> str:
        """SHA256withRSA (PKCS#1 v1.5), base64: what both platforms use."""
        return base64.b64encode(self.private.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()

    def verifies(self, message: str, signature: str) -> bool:
        try:
            self.private.public_key().verify(base64.b64decode(signature), message.encode(), padding.PKCS1v15(),
                                             hashes.SHA256())
        except (InvalidSignature, ValueError):
            return False
        return True


# --- WeChat Pay ---------------------------------------------------------------------------------------------------


def wechat_resource(out_trade_no: str, total: int, *, transaction_id: str = "4200000001202612040000000001",
                    currency: str = "CNY", mchid: str = MCHID, appid: str = APPID,
                    trade_state: str = "SUCCESS") -> dict[str, Any]:
    """A decrypted ``resource`` of a TRANSACTION.SUCCESS notification."""
    return {"mchid": mchid, "appid": appid, "out_trade_no": out_trade_no, "transaction_id": transaction_id,
            "trade_type": "NATIVE", "trade_state": trade_state, "trade_state_desc": "支付成功",
            "bank_type": "OTHERS", "success_time": "2026-12-04T18:00:00+08:00", "payer": {"openid": "oUpF8uMuAJO"},
            "amount": {"total": total, "payer_total": total, "currency": currency, "payer_currency": currency}}


def wechat_notification(platform: KeyPair, resource: dict[str, Any], *, stamp: int | None = None,
                        nonce: str | None = None, serial: str = PLATFORM_KEY_ID,
                        apiv3_key: str = APIV3_KEY) -> tuple[dict[str, str], bytes]:
    """The headers and body WeChat Pay sends: the resource AES-256-GCM encrypted, the body signed."""
    aes_nonce = uuid.uuid4().hex[:12]
    sealed = AESGCM(apiv3_key.encode()).encrypt(aes_nonce.encode(), json.dumps(resource).encode(), b"transaction")
    body = json.dumps({"id": str(uuid.uuid4()), "create_time": "2026-12-04T18:00:01+08:00",
                       "resource_type": "encrypt-resource", "event_type": "TRANSACTION.SUCCESS",
                       "summary": "支付成功",
                       "resource": {"original_type": "transaction", "algorithm": "AEAD_AES_256_GCM",
                                    "ciphertext": base64.b64encode(sealed).decode(),
                                    "associated_data": "transaction", "nonce": aes_nonce}})
    stamp = int(time.time()) if stamp is None else stamp
    nonce = nonce or uuid.uuid4().hex
    headers = {"Wechatpay-Timestamp": str(stamp), "Wechatpay-Nonce": nonce, "Wechatpay-Serial": serial,
               "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
               "Wechatpay-Signature": platform.sign(f"{stamp}\n{nonce}\n{body}\n")}
    return headers, body.encode()


@dataclass
class FakeAnswer:
    status_code: int
    text: str
    headers: dict[str, str]

    @property
    def content(self) -> bytes:
        return self.text.encode()


@dataclass
class WeChatPayServer:
    """``requests`` as the SDK calls it: checks the merchant's Authorization, answers signed by the platform."""

    platform: KeyPair
    merchant: KeyPair
    answers: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    calls: list[tuple[str, str, dict[str, Any] | None]] = field(default_factory=list)
    sign_answers: bool = True

    def _call(self, method: str, url: str, body: Any, headers: dict[str, str]) -> FakeAnswer:
        path = urlsplit(url).path
        self.calls.append((method, path, body))
        auth = dict(part.split("=", 1) for part in headers["Authorization"].split(" ", 1)[1].split(","))
        auth = {key: value.strip('"') for key, value in auth.items()}
        text = json.dumps(body) if body else ""
        message = f"{method}\n{path}\n{auth['timestamp']}\n{auth['nonce_str']}\n{text}\n"
        assert auth["mchid"] == MCHID and self.merchant.verifies(message, auth["signature"]), "bad merchant sign"
        status, answer = self.answers[path]
        out = json.dumps(answer)
        stamp, nonce = str(int(time.time())), uuid.uuid4().hex
        signer = self.platform if self.sign_answers else KeyPair.new()
        return FakeAnswer(status, out, {"Content-Type": "application/json", "Wechatpay-Timestamp": stamp,
                                        "Wechatpay-Nonce": nonce, "Wechatpay-Serial": PLATFORM_KEY_ID,
                                        "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
                                        "Wechatpay-Signature": signer.sign(f"{stamp}\n{nonce}\n{out}\n")})

    def post(self, url: str, json: Any = None, data: Any = None, headers: Any = None, **_: Any) -> FakeAnswer:
        return self._call("POST", url, json, headers)

    def get(self, url: str, headers: Any = None, **_: Any) -> FakeAnswer:
        return self._call("GET", url, None, headers)


# --- Alipay -------------------------------------------------------------------------------------------------------


def alipay_string(params: dict[str, str], left_out: tuple[str, ...] = ("sign", "sign_type")) -> str:
    """The string Alipay signs in a notification: the parameters but ``sign`` and ``sign_type``, sorted, ``k=v``
    joined by ``&`` (a request to Alipay signs ``sign_type`` too: ``left_out=("sign",)``)."""
    return "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k not in left_out)


def alipay_notification(alipay_key: KeyPair, out_trade_no: str, total_amount: str, *,
                        trade_no: str = "2026120422001400000000000001", app_id: str = ALIPAY_APPID,
                        trade_status: str = "TRADE_SUCCESS", **extra: str) -> dict[str, str]:
    """The form Alipay posts to the notify URL, signed RSA2."""
    params = {"notify_time": "2026-12-04 18:00:02", "notify_type": "trade_status_sync",
              "notify_id": uuid.uuid4().hex, "charset": "utf-8", "version": "1.0", "app_id": app_id,
              "trade_no": trade_no, "out_trade_no": out_trade_no, "trade_status": trade_status,
              "total_amount": total_amount, "receipt_amount": total_amount, "buyer_id": "2088102177846880",
              "gmt_payment": "2026-12-04 18:00:01", "subject": "礼包", **extra}
    return {**params, "sign": alipay_key.sign(alipay_string(params)), "sign_type": "RSA2"}


@dataclass
class AlipayServer:
    """``urlopen`` as the SDK calls it: checks the app's RSA2 sign on the request, answers signed by Alipay."""

    alipay_key: KeyPair
    app_key: KeyPair
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, url: str, timeout: Any = None) -> Any:
        params = dict(parse_qsl(urlsplit(url).query))
        assert self.app_key.verifies(alipay_string(params, ("sign",)), params["sign"]), "bad app sign"
        params["biz_content"] = json.loads(params["biz_content"])
        self.calls.append(params)
        method = params["method"]
        inner = json.dumps(self.answers[method], ensure_ascii=False, separators=(",", ":"))
        response_type = method.replace(".", "_") + "_response"
        raw = f'{{"{response_type}":{inner},"sign":"{self.alipay_key.sign(inner)}"}}'

        class Answer:
            def read(self) -> bytes:
                return raw.encode()

        return Answer()


def env_files(directory: str, **pems: str) -> dict[str, str]:
    """Write each PEM to ``directory`` and give its path by the same name."""
    paths = {}
    for name, pem in pems.items():
        path = os.path.join(directory, f"{name}.pem")
        with open(path, "w") as f:
            f.write(pem)
        paths[name] = path
    return paths
