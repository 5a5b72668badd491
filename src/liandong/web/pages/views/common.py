"""What every member page view shares: who the member is, and the redirect to log in."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from ...accounts.models import MemberLogin

View = TypeVar("View", bound=Callable[..., HttpResponse])


def login_url(next_path: str) -> str:
    return reverse("pages:login") + "?" + urlencode({"next": next_path})


def member_page(view: View) -> View:
    """The view of a page only a member sees: anyone else goes to the login page (and back after it). The view
    gets ``request.member_login``."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return HttpResponseRedirect(login_url(request.get_full_path()))
        login = MemberLogin.objects.select_related("user").filter(user=request.user).first()
        if login is None:  # an operator's login: the back office is theirs, not the member pages
            return render(request, "pages/not_a_member.html", {"tab": ""}, status=403)
        request.member_login = login  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def member_of(request: HttpRequest) -> str:
    login: MemberLogin = request.member_login  # type: ignore[attr-defined]
    return login.member


def safe_next(request: HttpRequest, default: str) -> str:
    """Where to go after logging in: a path of this site only (never another host)."""
    target = request.GET.get("next", "")
    if target.startswith("/") and not target.startswith("//") and "\\" not in target and len(target) <= 512:
        return target
    return default
