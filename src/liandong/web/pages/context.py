"""What every page's layout needs: the shop's name, who is looking (``viewer``) and, for a member, the unread
notices' count and where the live notices start."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from ...service.store.models import MemberNotice
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


def notices_of(member: str) -> dict[str, int]:
    """The topbar's badge (unread notices) and where the page's notice stream starts (after the newest one): two
    indexed queries."""
    notices = MemberNotice.objects.filter(member=member)
    newest = notices.order_by("-id").values_list("id", flat=True).first()
    return {"unread_notices": notices.filter(read_at__isnull=True).count(), "newest_notice": int(newest or 0)}


def layout(request: HttpRequest) -> dict[str, Any]:
    if not request.path.startswith("/api/"):
        viewer = viewer_of(request)
        notices = notices_of(viewer.member) if viewer.member else {}
        return {"viewer": viewer, "shop_name": shop_name(), **notices}
    return {}
