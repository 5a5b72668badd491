"""What a hostile client sends, and what it must get: never a 5xx, never a page that is not the documented JSON
error, never more than a short prefix of what it sent, never somebody else's reply, and a limit on what it may
try without an account (registrations, invite codes)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from api_client import PASSWORD, Caller, Register, signed_webhook
from django.test import Client

from liandong.service.store.models import LoggedEvent, WithdrawalState
from liandong.web.api.payments import SIGNATURE_HEADER

pytest_plugins = ["api_fixtures"]
pytestmark = pytest.mark.django_db

ERROR_KEYS = {"code", "field", "value", "message", "message_zh"}


def _is_documented_error(r: Any, status: int) -> None:
    assert r.status == status, r.body
    assert isinstance(r.body, dict) and set(r.body["error"]) == ERROR_KEYS, r.body


# --- 1. the webhook's signature header: anything unauthenticated is a 401, never a 500 -------------------------


@pytest.mark.parametrize("header", [
    "t=²,v1=00",  # "²".isdigit() is true, int("²") raises
    "t=" + "9" * 5000 + ",v1=00",  # int() of more than 4,300 digits raises
    "t=١٧٦٧٢٢٥٦٠٠,v1=" + "0" * 64,  # Arabic-Indic digits
    "t={now},v1=" + "é" * 64,  # hmac.compare_digest raises on a non-ASCII str (the time is filled in at run time:
    # a parameter that differs between collecting processes breaks pytest-xdist)
    "t=,v1=", "garbage", "",
])
def test_a_malformed_webhook_signature_is_a_401(api_shop: None, header: str) -> None:
    header = header.replace("{now}", str(int(time.time())))
    caller = Caller(Client(raise_request_exception=False))
    r = caller.request("POST", "/api/payments/webhook", raw=b'{"payment_id": "p", "order": "o", "amount": "1.00"}',
                       headers={SIGNATURE_HEADER: header})
    _is_documented_error(r, 401)
    assert r.body["error"]["code"] == "signature_invalid"


@pytest.mark.parametrize(("path", "status"), [
    ("/api/me/statement?after=" + "9" * 5000, 401),
    ("/api/events/" + "9" * 5000, 401),
    ("/api/products/" + "Ａ" * 10, 400),
])
def test_huge_or_non_ascii_path_and_query_values_are_4xx(api_shop: None, path: str, status: int) -> None:
    r = Caller(Client(raise_request_exception=False)).get(path)
    _is_documented_error(r, status)


def test_a_huge_query_value_from_a_member_is_a_small_400(api_shop: None, register_member: Register) -> None:
    alice = register_member("alice")
    alice.client.raise_request_exception = False
    r = alice.get("/api/me/statement?after=" + "9" * 5000)
    _is_documented_error(r, 400)
    assert len(json.dumps(r.body)) < 1000


# --- 2. money is ASCII digits: one parser at every edge ------------------------------------------------------


@pytest.mark.parametrize("amount", ["１０.００", "١٠.٠٠", "10.0０", "-10.00", " 10.00", "10.00\u3000", "1e1"])
def test_a_withdrawal_of_non_ascii_digits_is_a_400_and_logs_nothing(api_shop: None, register_member: Register,
                                                                     amount: str) -> None:
    alice = register_member("alice")
    r = alice.post("/api/withdrawals", {"amount": amount})
    _is_documented_error(r, 400)
    assert (r.body["error"]["code"], r.body["error"]["field"]) == ("invalid", "amount")
    assert not LoggedEvent.objects.filter(verb="withdraw").exists()
    assert not WithdrawalState.objects.exists()


def test_a_webhook_with_fullwidth_digits_pays_nothing(api_shop: None, register_member: Register) -> None:
    alice = register_member("alice")
    order = alice.post("/api/orders", {"sku": "TEA"}).body["order"]
    r = signed_webhook(alice, {"payment_id": "pay-fw", "order": order, "amount": "５９.００"})
    _is_documented_error(r, 400)
    assert r.body["error"]["field"] == "amount"
    assert not LoggedEvent.objects.filter(verb="pay").exists()


def test_a_product_price_of_arabic_indic_digits_is_a_400(api_shop: None, api_operator: Caller) -> None:
    r = api_operator.post("/api/operator/products", {"sku": "NEW", "price": "٥٩"})
    _is_documented_error(r, 400)
    assert r.body["error"]["field"] == "price"


def test_the_openapi_document_says_amounts_are_ascii_digits(api_shop: None) -> None:
    document = Client().get("/api/openapi.json").json()
    withdraw = document["components"]["schemas"]["WithdrawIn"]["properties"]["amount"]
    assert withdraw["pattern"] == r"^[0-9]{1,13}(\.[0-9]{1,2})?$"


# --- 3. every error under /api/ is the small JSON shape ------------------------------------------------------


def test_a_body_over_the_upload_limit_is_a_json_413_even_with_debug(api_shop: None, register_member: Register,
                                                                    settings: Any) -> None:
    settings.DEBUG = True
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    alice = register_member("alice")
    alice.client.raise_request_exception = False
    r = alice.post("/api/withdrawals", {"amount": "10.00", "pad": "x" * 5000})
    _is_documented_error(r, 413)
    assert r.body["error"]["code"] == "too_large"
    assert "SECRET" not in json.dumps(r.body) and "PATH" not in json.dumps(r.body)


def test_a_body_over_the_upload_limit_at_the_webhook_is_a_json_413(api_shop: None, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    r = signed_webhook(Caller(Client(raise_request_exception=False)),
                       {"payment_id": "p", "order": "o", "amount": "1.00", "pad": "x" * 5000})
    _is_documented_error(r, 413)


def test_a_megabyte_value_comes_back_as_a_short_prefix(api_shop: None, register_member: Register) -> None:
    alice = register_member("alice")
    huge = "9" * 1_000_000
    r = alice.post("/api/withdrawals", {"amount": huge})
    _is_documented_error(r, 400)
    error = r.body["error"]
    assert error["value"] == "9" * 64 + "…"
    assert len(json.dumps(r.body, ensure_ascii=False)) < 1000
    assert "9" * 100 not in error["message"] + error["message_zh"]


def test_a_megabyte_unknown_key_comes_back_as_a_short_prefix(api_shop: None, register_member: Register) -> None:
    alice = register_member("alice")
    r = alice.post("/api/withdrawals", {"amount": "10.00", "k" * 1_000_000: 1})
    _is_documented_error(r, 400)
    assert len(json.dumps(r.body, ensure_ascii=False)) < 1000


@pytest.mark.parametrize(("body", "field", "value"), [
    ('{"group": "g1\\u0000"}', "group", "g1\\u0000"),          # PostgreSQL cannot store a NUL in text or jsonb
    ('{"group": "g\\ud83d"}', "group", "g\\ud83d"),            # half of a surrogate pair is not a character
    ('{"group": "g1", "\\u0000": 1}', "\\u0000", "\\u0000"),  # in a key too
])
def test_text_no_database_can_store_is_a_400_naming_the_field(api_shop: None, register_member: Register,
                                                              body: str, field: str, value: str) -> None:
    alice = register_member("alice")
    alice.client.raise_request_exception = False
    r = alice.post("/api/actions/leave_group", raw=body.encode())
    _is_documented_error(r, 400)
    assert (r.body["error"]["code"], r.body["error"]["field"], r.body["error"]["value"]) == ("invalid", field, value)
    assert not LoggedEvent.objects.filter(verb="leave_group").exists()


def test_a_login_without_a_client_address_is_counted_not_a_500(api_shop: None, register_member: Register) -> None:
    """A connection with no IP address (a Unix socket; REMOTE_ADDR empty) shares one address for the limits."""
    register_member("alice")
    caller = Caller(Client(raise_request_exception=False, REMOTE_ADDR=""))
    r = caller.post("/api/auth/token", {"username": "alice", "password": "wrong-password"})
    _is_documented_error(r, 401)
    r = caller.post("/api/auth/token", {"username": "alice\u0000", "password": "x"})
    _is_documented_error(r, 400)


def test_an_unexpected_fault_is_a_json_500_without_details_even_with_debug(api_shop: None, settings: Any,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from liandong.web.api import reads

    settings.DEBUG = True

    def broken() -> None:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(reads, "product", lambda *a, **k: broken())
    r = Caller(Client(raise_request_exception=False)).get("/api/products")
    _is_documented_error(r, 500)
    assert r.body["error"]["code"] == "internal"
    assert "secret detail" not in json.dumps(r.body) and "Traceback" not in json.dumps(r.body)


def test_a_wrong_method_on_a_known_path_is_a_json_405(api_shop: None) -> None:
    r = Caller(Client()).request("PUT", "/api/products", {})
    _is_documented_error(r, 405)
    assert r.body["error"]["code"] == "method_not_allowed"


# --- 5. registrations and invite codes are limited per client --------------------------------------------------


def test_registrations_from_one_client_are_limited(api_shop: None, settings: Any) -> None:
    settings.REGISTRATIONS_PER_CLIENT_PER_HOUR = 3
    client = Caller(Client())
    for n in range(3):
        assert client.post("/api/auth/register", {"username": f"u{n}", "password": PASSWORD}).status == 201
    r = client.post("/api/auth/register", {"username": "u3", "password": PASSWORD})
    _is_documented_error(r, 429)
    assert (r.body["error"]["code"], r.body["error"]["field"]) == ("rate_limited", "client")
    assert 1 <= int(r.headers["Retry-After"]) <= 3600
    assert LoggedEvent.objects.filter(verb="join").count() == 3
    other = Caller(Client(REMOTE_ADDR="10.0.0.9"))
    assert other.post("/api/auth/register", {"username": "u4", "password": PASSWORD}).status == 201


def test_invalid_invite_codes_from_one_client_are_limited(api_shop: None, register_member: Register,
                                                          settings: Any) -> None:
    settings.INVITE_FAILURES_PER_CLIENT_PER_HOUR = 3
    alice = register_member("alice")
    prober = Caller(Client())
    for n in range(3):
        r = prober.post("/api/auth/register", {"username": f"p{n}", "password": PASSWORD, "invite_code": f"BAD{n}"})
        assert r.status == 400 and r.body["error"]["code"] == "invite_invalid"
    right = prober.post("/api/auth/register", {"username": "p9", "password": PASSWORD,
                                               "invite_code": alice.invite_code})
    _is_documented_error(right, 429)
    assert "member" not in right.body


# --- 6. anonymous callers never share replies ----------------------------------------------------------------


def test_a_second_anonymous_client_reusing_a_key_never_gets_the_first_ones_reply(api_shop: None) -> None:
    first = Caller(Client(REMOTE_ADDR="10.0.0.7"))
    mine = first.post("/api/auth/register", {"username": "bea", "password": PASSWORD}, key="k1")
    assert mine.status == 201
    same_address = Caller(Client(REMOTE_ADDR="10.0.0.7"))
    theirs = same_address.post("/api/auth/register", {"username": "cy", "password": PASSWORD}, key="k1")
    assert theirs.status == 201 and theirs.body["member"] != mine.body["member"]
    other_address = Caller(Client(REMOTE_ADDR="10.0.0.9"))
    again = other_address.post("/api/auth/register", {"username": "bea", "password": PASSWORD}, key="k1")
    assert again.status == 409 and again.body["error"]["code"] == "exists"
    assert "Idempotent-Replayed" not in again.headers and mine.body["member"] not in json.dumps(again.body)


def test_an_anonymous_retry_of_the_same_request_gets_its_own_reply(api_shop: None) -> None:
    client = Caller(Client(REMOTE_ADDR="10.0.0.7"))
    body = {"username": "bea", "password": PASSWORD}
    first = client.post("/api/auth/register", body, key="k1")
    retry = client.post("/api/auth/register", body, key="k1")
    assert retry.status == 201 and retry.body == first.body and retry.headers["Idempotent-Replayed"] == "true"


def test_the_invite_link_query_is_part_of_the_request(api_shop: None, register_member: Register) -> None:
    alice = register_member("alice")
    client = Caller(Client())
    body = {"username": "bea", "password": PASSWORD}
    bad = client.post("/api/auth/register?invite=NOPE2345", body, key="k2")
    assert bad.status == 400
    good = client.post(f"/api/auth/register?invite={alice.invite_code}", body, key="k2")
    assert good.status == 201 and good.body["referrer"] == alice.member



def test_a_page_django_answers_itself_under_api_is_json_too(api_shop: None, settings: Any) -> None:
    settings.DEBUG = True  # Django's debug page for a bad Host would show the settings
    r = Caller(Client(HTTP_HOST="evil.example", raise_request_exception=False)).get("/api/products")
    _is_documented_error(r, 400)
    assert "SECRET" not in json.dumps(r.body)
