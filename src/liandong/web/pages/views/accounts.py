"""Joining, registering, logging in and out. The forms post to the API (``/api/auth/…``), which limits them
(registrations and invalid invite codes per client, failed logins per username and per client)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import select_template
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from ...accounts.models import MemberLogin
from ...api import reads
from ...api.errors import ApiError
from ...api.ratelimit import check_invite_lookups, record_invalid_invite
from ...api.schemas import INVITE_CODE
from ..people import display_name
from .common import safe_next


def _inviter(request: HttpRequest, code: str) -> MemberLogin | None:
    """The member whose invite code this is; an unknown code counts toward the client's invalid-code limit."""
    code = code.strip().upper()
    inviter = MemberLogin.objects.filter(invite_code=code).first() if INVITE_CODE.fullmatch(code) else None
    if inviter is None:
        record_invalid_invite(request)
    return inviter


def binding_terms() -> list[dict[str, Any]]:
    """What joining through an invite binds, per running plan, from the plans' current config."""
    terms: list[dict[str, Any]] = []
    for kind in reads.running_plans():
        config = reads.plan_versions(kind)[-1]["config"]
        template = select_template([f"pages/terms/{kind}.html", "pages/terms/_generic.html"])
        terms.append({"kind": kind, "config": config, "template": template})
    return terms


@require_GET
def join(request: HttpRequest, code: str) -> HttpResponse:
    """The invite link's page: who invites, what joining binds, and the registration form."""
    try:
        check_invite_lookups(request)
    except ApiError as exc:
        return render(request, "pages/join.html", {"refused": exc, "code": code, "tab": ""}, status=429)
    inviter = _inviter(request, code)
    if inviter is None:
        return render(request, "pages/join.html", {"invalid": True, "code": code, "tab": ""}, status=404)
    context = {"inviter": display_name(inviter.member), "code": inviter.invite_code, "terms": binding_terms(),
               "tab": ""}
    return render(request, "pages/join.html", context)


@require_GET
def register(request: HttpRequest) -> HttpResponse:
    """The registration form; opened with an invite code (``?invite=``), it names the inviter as the join page
    does (an unknown code names nobody and counts toward the client's invalid-code limit)."""
    code = request.GET.get("invite", "")[:32]
    inviter = None
    if code:
        try:
            check_invite_lookups(request)
            found = _inviter(request, code)
        except ApiError:  # too many invalid codes from this client: name nobody
            found = None
        inviter = display_name(found.member) if found is not None else None
    return render(request, "pages/register.html", {"code": code, "terms": binding_terms(), "tab": "me",
                                                   "inviter": inviter,
                                                   "next": safe_next(request, reverse("pages:me"))})


@require_GET
def login_page(request: HttpRequest) -> HttpResponse:
    target = safe_next(request, reverse("pages:me"))
    if request.user.is_authenticated:
        return HttpResponseRedirect(target)
    return render(request, "pages/login.html", {"next": target, "tab": "me"})


@require_POST
def logout_page(request: HttpRequest) -> HttpResponse:
    logout(request)
    return HttpResponseRedirect(reverse("pages:home"))
