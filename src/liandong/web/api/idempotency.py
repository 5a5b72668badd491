"""Idempotent POSTs: every POST carries an ``Idempotency-Key``; a repeat gets the first answer, never a second effect.

For one caller (a token, a session's user, or an anonymous client: see ``caller_scope``) and one key:

    first request      claims the key (a row with no response yet), runs, stores its status and body
    same body again    the stored response, with ``Idempotent-Replayed: true`` (a concurrent repeat waits for it)
    another body       409 idempotency_conflict naming the key

The request's hash covers the method, the path with its query and the raw body. Answers that say "try again"
(401, 403, 429 and 5xx) are not stored: the claim is dropped so the retry runs. Logins and tokens require the key
but are never replayed (``key_required``): their answers hold a secret or a cookie. A claim left behind by a
crashed process is taken over after ``IDEMPOTENCY_STALE_SECONDS``; the event the view logged is keyed on the same
key (``request_event_key``), so a re-run finds the logged event instead of logging a second one.
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from ninja import Router
from ninja.decorators import decorate_view

from .errors import ApiCode, ApiError, error_response
from .models import IdempotentRequest
from .ratelimit import client_address

HEADER = "Idempotency-Key"
KEY_MAX = 128
#: Statuses that tell the caller to retry: not stored, so the retry runs again.
RETRYABLE = frozenset({401, 403, 429})

#: The header as every POST documents it in the OpenAPI document.
OPENAPI_HEADER: dict[str, Any] = {
    "parameters": [{
        "in": "header", "name": HEADER, "required": True,
        "description": "a unique key per intended action (e.g. a UUID); a repeat with the same body returns "
                       "the first response, with another body 409",
        "schema": {"type": "string", "minLength": 1, "maxLength": KEY_MAX, "pattern": "^[!-~]+$"},
    }],
}


@dataclass(frozen=True, slots=True)
class IdempotencyContext:
    scope: str
    key: str
    request_hash: str


def request_hash(request: HttpRequest) -> str:
    """The method, the path with its query (``?invite=`` is part of the request) and the raw body."""
    digest = hashlib.sha256(f"{request.method} {request.get_full_path()}\n".encode())
    digest.update(request.body)
    return digest.hexdigest()


def caller_scope(request: HttpRequest, body_hash: str) -> str:
    """Whose keys these are: the bearer token's hash, else the session's user, else an anonymous caller, who is
    known by nothing but its address and what it sent: its scope is both, so a reply is replayed only to a client
    that sends the very same request (the same username and password) from the same address, never to another.

        anonymous 10.0.0.7, key k1, register bea/pw1   -> scope anonymous:<hash of 10.0.0.7 + that request>
        anonymous 10.0.0.9, key k1, register bea/pw1   -> another scope: runs (409 username exists)
        anonymous 10.0.0.7, key k1, register cy/pw2    -> another scope: runs (not a 409: nothing to conflict)
    """
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return "token:" + hashlib.sha256(header[7:].strip().encode()).hexdigest()[:40]
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return "anonymous:" + hashlib.sha256(f"{client_address(request)}|{body_hash}".encode()).hexdigest()[:40]


def request_event_key(request: HttpRequest, fallback: str) -> tuple[str, str]:
    """The event-log key and request hash for the event this request logs (``fallback`` without a key)."""
    context: IdempotencyContext | None = getattr(request, "idempotency", None)
    if context is None:
        return fallback, hashlib.sha256(fallback.encode()).hexdigest()
    return f"{context.scope}:{context.key}", context.request_hash


def _error(exc: ApiError) -> HttpResponse:
    return error_response(exc)


def _replay(record: IdempotentRequest) -> HttpResponse:
    assert record.status_code is not None
    response = HttpResponse(record.body, status=record.status_code, content_type=record.content_type)
    response["Idempotent-Replayed"] = "true"
    return response


def _claim(context: IdempotencyContext) -> IdempotentRequest | HttpResponseBase:
    """Our new claim on the key, or the response to give instead (the stored one, a 409)."""
    wait_until = time.monotonic() + getattr(settings, "IDEMPOTENCY_WAIT_SECONDS", 10.0)
    stale_after = getattr(settings, "IDEMPOTENCY_STALE_SECONDS", 60.0)
    while True:
        try:
            with transaction.atomic():
                return IdempotentRequest.objects.create(scope=context.scope, key=context.key,
                                                        request_hash=context.request_hash)
        except IntegrityError:
            pass
        found = IdempotentRequest.objects.filter(scope=context.scope, key=context.key).first()
        if found is None:
            continue  # the claim was dropped in between: try to take it
        if found.request_hash != context.request_hash:
            return _error(ApiError(409, ApiCode.IDEMPOTENCY_CONFLICT, HEADER, context.key))
        if found.status_code is not None:
            return _replay(found)
        if (timezone.now() - found.created_at).total_seconds() > stale_after:
            IdempotentRequest.objects.filter(pk=found.pk, status_code__isnull=True).delete()
            continue
        if time.monotonic() >= wait_until:
            return _error(ApiError(409, ApiCode.IDEMPOTENCY_IN_PROGRESS, HEADER, context.key))
        time.sleep(0.02)


def _usable_key(request: HttpRequest) -> str | None:
    key = request.headers.get(HEADER, "")
    return key if key and len(key) <= KEY_MAX and all("!" <= ch <= "~" for ch in key) else None


def _missing_key(request: HttpRequest) -> HttpResponse:
    return _error(ApiError(400, ApiCode.IDEMPOTENCY_KEY_MISSING, HEADER, request.headers.get(HEADER) or None))


def key_required(run: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """For logins and tokens: the key is required like on every POST, but the answer is not stored (it holds a
    secret, or a cookie a stored body would not carry); a repeat logs in again and logs no event."""

    @functools.wraps(run)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if _usable_key(request) is None:
            return _missing_key(request)
        return run(request, *args, **kwargs)

    return wrapped


def idempotent(run: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Wrap an operation's ``run`` (``ninja.decorators.decorate_view``): claim, run, store."""

    @functools.wraps(run)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        key = _usable_key(request)
        if key is None:
            return _missing_key(request)
        body_hash = request_hash(request)
        context = IdempotencyContext(caller_scope(request, body_hash), key, body_hash)
        claim = _claim(context)
        if not isinstance(claim, IdempotentRequest):
            return claim
        request.idempotency = context  # type: ignore[attr-defined]
        try:
            response = run(request, *args, **kwargs)
        except BaseException:
            claim.delete()
            raise
        if response.status_code in RETRYABLE or response.status_code >= 500 or not isinstance(response,
                                                                                             HttpResponse):
            claim.delete()
            return response
        claim.status_code = response.status_code
        claim.content_type = response.get("Content-Type", "application/json")
        claim.body = response.content.decode("utf-8")
        claim.save(update_fields=["status_code", "content_type", "body"])
        return response

    return wrapped


def idempotent_post(router: Router, path: str, *, replay: bool = True,
                    **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``@router.post`` that requires and honours ``Idempotency-Key`` (and documents the header); with
    ``replay=False`` (logins) the key is required but the answer not stored (``key_required``)."""
    wrapper = idempotent if replay else key_required

    def register(view: Callable[..., Any]) -> Callable[..., Any]:
        return router.post(path, openapi_extra=OPENAPI_HEADER, **kwargs)(decorate_view(wrapper)(view))

    return register
