"""Who is calling: a session (member pages, with CSRF) or a bearer token (the API), and what they may do.

- A **member** is a user with a ``MemberLogin``; it reads and acts on its own data only (``member_of``).
- An **operator** is a staff user; reading the back office needs staff, each action its permission
  (``require_operator(request, "refund_order")``), see ``accounts.models.OPERATOR_PERMISSIONS``.
- A **token** is ``ld_`` + 43 random characters, issued by ``POST /api/auth/token``; only its SHA-256 is stored.

Answers: no credentials or a bad token 401; credentials but not allowed 403.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import APIKeyCookie, HttpBearer

from ..accounts.models import ApiToken, MemberLogin
from .errors import ApiCode, ApiError

TOKEN_PREFIX = "ld_"
LAST_USED_PRECISION = dt.timedelta(hours=1)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User) -> tuple[str, dt.datetime]:
    """A new bearer token for ``user`` (returned once) and when it expires."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    lifetime = dt.timedelta(days=getattr(settings, "API_TOKEN_DAYS", 30))
    expires_at = timezone.now() + lifetime
    ApiToken.objects.create(user=user, token_hash=token_hash(token), expires_at=expires_at)
    return token, expires_at


class BearerToken(HttpBearer):
    """``Authorization: Bearer ld_…``: a token that exists, is not revoked and has not expired."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = (ApiToken.objects.select_related("user").filter(token_hash=token_hash(token), revoked=False,
                                                                 expires_at__gt=timezone.now()).first())
        if found is None or not found.user.is_active:
            return None
        now = timezone.now()
        if found.last_used_at is None or now - found.last_used_at > LAST_USED_PRECISION:
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)  # at most one write an hour per token
        request.api_token = found  # type: ignore[attr-defined]
        return found.user


class Session(APIKeyCookie):
    """Django's session cookie (the member pages); unsafe methods need the CSRF token, as on any Django form."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        """No logged-in session, nothing for CSRF to protect: the caller is anonymous and gets the 401 (a 403
        csrf_failed told an anonymous client to send a token it cannot have). A session's user needs the token."""
        if not request.user.is_authenticated:
            return None
        key: str | None = super()._get_key(request)
        return key

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = request.user
        return user if user.is_authenticated else None


#: Every authenticated endpoint accepts either.
AUTH = [BearerToken(), Session()]


def door(check: Callable[[HttpRequest], Any]) -> list[Any]:
    """``AUTH`` that also runs ``check(request)`` (``member_of``, or an operator's permission) once the caller is
    known, before the body is read: a caller who may not send it gets the 401 or 403, not a 400 about the body."""

    class BearerDoor(BearerToken):
        def authenticate(self, request: HttpRequest, token: str) -> Any:
            user = super().authenticate(request, token)
            if user is not None:
                request.auth = user  # type: ignore[attr-defined]
                check(request)
            return user

    class SessionDoor(Session):
        def authenticate(self, request: HttpRequest, key: str | None) -> Any:
            user = super().authenticate(request, key)
            if user is not None:
                request.auth = user  # type: ignore[attr-defined]
                check(request)
            return user

    return [BearerDoor(), SessionDoor()]


def user_of(request: HttpRequest) -> Any:
    user = getattr(request, "auth", None)
    if user is None or isinstance(user, AnonymousUser):
        raise ApiError(401, ApiCode.UNAUTHORIZED, "Authorization")
    return user


def member_of(request: HttpRequest) -> str:
    """The calling member's id; 403 for a user (an operator) who is not a member."""
    user = user_of(request)
    login = MemberLogin.objects.filter(user=user).first()
    if login is None:
        raise ApiError(403, ApiCode.NOT_A_MEMBER, "user", user.get_username())
    return login.member


def is_operator(user: Any) -> bool:
    return bool(user.is_active and user.is_staff)


def require_operator(request: HttpRequest, permission: str | None = None) -> Any:
    """The calling operator (a staff user), holding ``accounts.<permission>`` when one is named."""
    user = user_of(request)
    needed = f"the permission accounts.{permission}" if permission else "staff status (an operator)"
    if not is_operator(user) or (permission is not None and not user.has_perm(f"accounts.{permission}")):
        raise ApiError(403, ApiCode.FORBIDDEN, "user", needed)
    return user


def may_read_member(request: HttpRequest, member: str) -> bool:
    """A member reads its own things; an operator reads everyone's."""
    user = user_of(request)
    if is_operator(user):
        return True
    return MemberLogin.objects.filter(user=user, member=member).exists()
