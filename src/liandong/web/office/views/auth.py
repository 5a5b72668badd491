"""The back office's own login and log out (a form of its own, not the members' ``/login``).

The login calls Django's ``authenticate``, so django-axes limits it like every login form (``api/ratelimit.py``):
five wrong passwords for one username from one address, or twenty from one address whatever the usernames, and
every try for ``LOGIN_LOCKOUT_MINUTES`` after is the 429 page naming the wait, the right password too. A member's
login (not staff) opens nothing here: it gets the same answer as a wrong password, and is not counted as one.
"""

from __future__ import annotations

from django.contrib.auth import authenticate, login, logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from ...api.ratelimit import REFUSED_FLAG, login_refusal
from ..access import is_office_user, safe_next

USERNAME_MAX = 150
PASSWORD_MAX = 128


def _locked_out(request: HttpRequest, username: str, next_path: str) -> HttpResponse:
    refusal = login_refusal(request, username)
    wait = int(refusal.params["retry_after"]) if refusal is not None else 60 * 15
    response = render(request, "office/login.html", {"username": username, "next": next_path, "wait": wait,
                                                      "locked": True}, status=429)
    response["Retry-After"] = str(wait)
    return response


@require_http_methods(["GET", "HEAD", "POST"])
def login_page(request: HttpRequest) -> HttpResponse:
    next_path = safe_next(request, reverse("office:home"))
    if request.method != "POST":
        if is_office_user(request.user):
            return HttpResponseRedirect(next_path)
        return render(request, "office/login.html", {"next": next_path})
    username = request.POST.get("username", "").strip()[:USERNAME_MAX]
    password = request.POST.get("password", "")[:PASSWORD_MAX]
    if not username or not password:
        error = _("Enter your username and password.")
        return render(request, "office/login.html", {"username": username, "next": next_path, "error": error},
                      status=400)
    user = authenticate(request, username=username, password=password)
    if getattr(request, REFUSED_FLAG, False) or getattr(request, "axes_locked_out", False):
        return _locked_out(request, username, next_path)
    if user is None or not is_office_user(user):
        error = _("This username and password do not open the back office.")
        return render(request, "office/login.html", {"username": username, "next": next_path, "error": error},
                      status=401 if user is None else 403)
    login(request, user)
    return HttpResponseRedirect(next_path)


@require_POST
def logout_page(request: HttpRequest) -> HttpResponse:
    logout(request)
    return HttpResponseRedirect(reverse("office:login"))
