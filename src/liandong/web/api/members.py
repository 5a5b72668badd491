"""Members: register with an invite code, log in (a session for pages, a bearer token for the API), and read
one's own profile, balances, rank, team and statement. A member only ever reads its own data here (``/me``).

Registering appends one ``join`` event whose referrer is the inviter's member id::

    POST /api/auth/register {"username": "bea", "password": "…", "invite_code": "K7QM2XPA"}
      -> user bea, MemberLogin(member="m3kq…", invite_code=<new>), event {join: m3kq…, referrer: <inviter>}

An optional ``phone`` and ``email`` are checked (``accounts/contacts.py``; a bad one is a 400 naming it, and
nothing is created), kept on the login, shown to the member itself (``/api/me``) and to operators, and, when the
shop runs the fraud holds, sent in the ``observe_signals`` event logged right before the join.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth import authenticate, get_user_model, login, logout
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from ninja import Router, Status
from ninja.params.functions import Query

from ...service.store.models import WithdrawalState
from ..accounts.contacts import BadContact, clean_email, clean_phone
from ..accounts.models import ApiToken, MemberLogin
from ..signals import log_signals
from . import reads
from .actions import log_event, outcome_of
from .auth import AUTH, BearerToken, is_operator, issue_token, member_of, user_of
from .errors import ApiCode, ApiError
from .idempotency import idempotent_post
from .ratelimit import (
    REFUSED_FLAG,
    check_invite_lookups,
    count_registration,
    login_refusal,
    record_invalid_invite,
)
from .schemas import (
    INVITE_CODE,
    BalancesOut,
    ErrorOut,
    InviteCode,
    LoginIn,
    OrdersPage,
    ProfileOut,
    RankOut,
    RegisterIn,
    RegisterOut,
    SessionOut,
    StatementOut,
    TeamOut,
    TokenOut,
    WithdrawalsPage,
)

router = Router(tags=["members"])
ERRORS: dict[int, Any] = {code: ErrorOut for code in (400, 401, 403, 404, 409, 422, 429)}
#: Invite codes avoid characters that read alike (0/O, 1/I/L).
INVITE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
MEMBER_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def _new_ids() -> tuple[str, str]:
    member = "m" + "".join(secrets.choice(MEMBER_ALPHABET) for _ in range(9))
    invite = "".join(secrets.choice(INVITE_ALPHABET) for _ in range(8))
    return member, invite


def _referrer(request: HttpRequest, invite_code: str | None) -> str | None:
    """The inviter's member id. Any code that is not one (unknown, malformed, too long) gets the same 400
    ``invite_invalid`` and counts toward the client's limit of invalid codes (a 429 past it): a prober learns
    nothing but "not valid"."""
    if invite_code is None:
        return None
    check_invite_lookups(request)
    code = invite_code.strip().upper()
    inviter = MemberLogin.objects.filter(invite_code=code).first() if INVITE_CODE.fullmatch(code) else None
    if inviter is None:
        record_invalid_invite(request)
        raise ApiError(400, ApiCode.INVITE_INVALID, "invite_code", invite_code)
    return inviter.member


def _contacts(body: RegisterIn) -> tuple[str, str]:
    """The phone (its 11 digits) and e-mail address given, each "" when left out or empty; a 400 naming the field
    and the value sent when one is not valid (nothing is created)."""
    cleaned: list[str] = []
    for field, clean in (("phone", clean_phone), ("email", clean_email)):
        written = getattr(body, field)
        if written is None or not written.strip():
            cleaned.append("")
            continue
        try:
            cleaned.append(clean(written))
        except BadContact as bad:
            raise ApiError(400, ApiCode.INVALID, field, written, why=bad.why) from None
    return cleaned[0], cleaned[1]


def _check_new_user(body: RegisterIn) -> None:
    user_model = get_user_model()
    if user_model.objects.filter(username=body.username).exists():
        raise ApiError(409, ApiCode.EXISTS, "username", body.username)
    try:
        validate_password(body.password, user=user_model(username=body.username))
    except DjangoValidationError as exc:
        raise ApiError(400, ApiCode.PASSWORD_REJECTED, "password", None, why=" ".join(exc.messages)) from None


@idempotent_post(router, "/auth/register", auth=None, response={201: RegisterOut, **ERRORS})
def register(request: HttpRequest, body: RegisterIn, invite: InviteCode | None = Query(None)) -> Status[Any]:
    """Register a member. The inviter comes from ``invite_code`` (or the invite link's ``?invite=``). At most
    ``REGISTRATIONS_PER_CLIENT_PER_HOUR`` register requests per client address (then 429)."""
    count_registration(request)
    referrer = _referrer(request, body.invite_code or invite)
    phone, email = _contacts(body)
    _check_new_user(body)
    for _attempt in range(5):
        member, invite_code = _new_ids()
        try:
            with transaction.atomic():
                user = get_user_model().objects.create_user(username=body.username, password=body.password)
                account = MemberLogin.objects.create(user=user, member=member, invite_code=invite_code, phone=phone,
                                                     email=email)
                joined: dict[str, Any] = {"member": member, "referrer": referrer}
                if body.birth_date is not None:
                    joined |= {"birth_date": body.birth_date.isoformat(), "guardian_consent": body.guardian_consent}
                # the fraud holds' signals, with the contacts given, right before the join (web/signals.py)
                log_signals(request, member, phone=phone or None, email=email or None)
                logged = log_event(request, "join", joined, actor=f"member:{member}")
            break
        except IntegrityError:
            if get_user_model().objects.filter(username=body.username).exists():
                raise ApiError(409, ApiCode.EXISTS, "username", body.username) from None
    else:
        raise AssertionError("five random member ids in a row were taken")
    outcome_of(logged)
    return Status(201, {**reads.profile(account), "join_event": logged.position})


def _credentials(request: HttpRequest, body: LoginIn) -> Any:
    """The user, or a 401; a 429 while the login limits (``ratelimit.py``, django-axes) refuse this client or
    this username from it. axes counts the failure (``authenticate`` signals it) and clears the count on success
    (``user_logged_in``, which a token login sends too)."""
    refusal = login_refusal(request, body.username)
    if refusal is not None:
        raise refusal
    user = authenticate(request, username=body.username, password=body.password)
    if user is None and getattr(request, REFUSED_FLAG, False):  # a concurrent failure reached a limit meanwhile
        raise login_refusal(request, body.username) or ApiError(401, ApiCode.LOGIN_FAILED, "username", body.username)
    if user is None:
        raise ApiError(401, ApiCode.LOGIN_FAILED, "username", body.username)
    return user


def _member_id(user: Any) -> str | None:
    found = MemberLogin.objects.filter(user=user).values_list("member", flat=True).first()
    return str(found) if found is not None else None


@idempotent_post(router, "/auth/login", replay=False, auth=None, response={200: SessionOut, **ERRORS})
def login_session(request: HttpRequest, body: LoginIn) -> dict[str, Any]:
    """Log in for the member pages: sets the session cookie (unsafe requests then need the CSRF token)."""
    user = _credentials(request, body)
    login(request, user)
    return {"username": user.get_username(), "member": _member_id(user), "operator": is_operator(user)}


@idempotent_post(router, "/auth/logout", replay=False, auth=AUTH, response={204: None, **ERRORS})
def logout_session(request: HttpRequest) -> Status[None]:
    logout(request)
    return Status(204, None)


@idempotent_post(router, "/auth/token", replay=False, auth=None, response={201: TokenOut, **ERRORS})
def create_token(request: HttpRequest, body: LoginIn) -> Status[Any]:
    """A bearer token for the API (``Authorization: Bearer <token>``). Only its hash is stored."""
    user = _credentials(request, body)
    user_logged_in.send(sender=user.__class__, request=request, user=user)  # a login: axes clears the failures
    token, expires_at = issue_token(user)
    return Status(201, {"token": token, "expires_at": expires_at, "member": _member_id(user)})


@router.delete("/auth/token", auth=[BearerToken()], response={204: None, **ERRORS})
def revoke_token(request: HttpRequest) -> Status[None]:
    """Revoke the token this request was made with."""
    token: ApiToken = request.api_token  # type: ignore[attr-defined]
    ApiToken.objects.filter(pk=token.pk).update(revoked=True)
    return Status(204, None)


# --- my data ------------------------------------------------------------------------------------------------------


@router.get("/me", auth=AUTH, response={200: ProfileOut, **ERRORS})
def my_profile(request: HttpRequest) -> dict[str, Any]:
    member_of(request)
    return reads.profile(MemberLogin.objects.select_related("user").get(user=user_of(request)))


@router.get("/me/balances", auth=AUTH, response={200: BalancesOut, **ERRORS})
def my_balances(request: HttpRequest) -> dict[str, Any]:
    return reads.balances(member_of(request))


@router.get("/me/rank", auth=AUTH, response={200: RankOut, **ERRORS})
def my_rank(request: HttpRequest) -> dict[str, Any]:
    """My rank and how far I am from partner (direct agents so far, how many the plan asks for)."""
    return reads.rank(member_of(request))


@router.get("/me/team", auth=AUTH, response={200: TeamOut, **ERRORS})
def my_team(request: HttpRequest) -> dict[str, Any]:
    """The team I lead, my seeds and their progress, my help fund and what releases it."""
    return reads.team(member_of(request))


ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"


@router.get("/me/statement", auth=AUTH, response={200: StatementOut, **ERRORS})
def my_statement(request: HttpRequest, after: int = Query(0, ge=0, le=2**62),
                 limit: int = Query(100, ge=1, le=500),
                 order: str = Query("oldest", pattern=r"^(oldest|newest)$")) -> dict[str, Any]:
    """Every entry on my accounts, each with its cause and the balance after it: oldest first, or newest first
    (``order=newest``); the next page ``?after=<next_after>`` in the same order."""
    return reads.statement(member_of(request), after, limit, newest=order == "newest")


@router.get("/me/orders", auth=AUTH, response={200: OrdersPage, **ERRORS})
def my_orders(request: HttpRequest, after: str | None = Query(None, pattern=ID_PATTERN),
              limit: int = Query(100, ge=1, le=500)) -> dict[str, Any]:
    """My orders, newest first; the next page ``?after=<next_after>``."""
    return reads.orders(member_of(request), after, limit)


@router.get("/me/withdrawals", auth=AUTH, response={200: WithdrawalsPage, **ERRORS})
def my_withdrawals(request: HttpRequest, after: str | None = Query(None, pattern=ID_PATTERN),
                   limit: int = Query(100, ge=1, le=500)) -> dict[str, Any]:
    """My withdrawals, newest first, with their payee and where each stands; the next page
    ``?after=<next_after>``."""
    member = member_of(request)
    return reads.withdrawals(WithdrawalState.objects.filter(member=member), after, limit, newest=True)
