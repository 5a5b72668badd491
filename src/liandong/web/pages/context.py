"""What every page's layout needs: the shop's name and who is looking (``viewer``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from ..accounts.models import MemberLogin
from ..api.reads import shop_setup


@dataclass(frozen=True)
class Viewer:
    authenticated: bool
    username: str = ""
    member: str | None = None
    operator: bool = False


def viewer_of(request: HttpRequest) -> Viewer:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return Viewer(False)
    known: MemberLogin | None = getattr(request, "member_login", None)  # a member page's view looked it up
    login = known.member if known is not None else (
        MemberLogin.objects.filter(user=user).values_list("member", flat=True).first())
    return Viewer(True, user.get_username(), login, bool(user.is_staff))


def shop_name() -> str:
    setup = shop_setup()
    name = setup.name if setup is not None else ""
    return name or "链动 Liandong"


def layout(request: HttpRequest) -> dict[str, Any]:
    if not request.path.startswith("/api/"):
        viewer = viewer_of(request)
        return {"viewer": viewer, "shop_name": shop_name()}
    return {}
