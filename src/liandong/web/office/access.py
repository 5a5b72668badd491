"""Who may open a back-office page and who may act on it.

An **office user** is an active staff user. What it may do is the operator permissions it holds
(``accounts.models.OPERATOR_PERMISSIONS``), through its role's group (``OFFICE_ROLES``) or granted one by one; a
superuser holds them all. One decorator states a page's permission::

    @office_view("decide_withdrawal")
    def withdrawals(request): ...      # GET: view_office or decide_withdrawal; POST: decide_withdrawal

- reading (GET, HEAD) needs ``view_office`` (every page, reading only) or the page's own permission (finance sees
  the withdrawal pages through ``decide_withdrawal`` without seeing the rest);
- acting (any other method) needs the page's own permission: a read-only user gets the 403 page;
- ``office_view()`` (no permission): any office user may read it (the overview), nobody may post to it;
- nobody logged in: to ``/office/login`` and back; a member's login (not staff): the 403 page.

The view gets ``request.office`` (an ``OfficeUser``): the name, roles and permissions the layout shows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..accounts.models import OFFICE_ROLES, OPERATOR_PERMISSIONS
from .nav import NAV, NavEntry

View = TypeVar("View", bound=Callable[..., HttpResponse])
READ_METHODS = frozenset({"GET", "HEAD"})
#: Every back-office page may be read with this permission (the read-only role holds nothing else).
VIEW_OFFICE = "view_office"
PERMISSION_CODES = frozenset(code for code, _description in OPERATOR_PERMISSIONS)

#: The roles' names as the layout shows them.
ROLE_NAMES = {"owner": gettext_lazy("Owner"), "operator": gettext_lazy("Operator"),
              "finance": gettext_lazy("Finance"), "read-only": gettext_lazy("Read-only")}
#: What each permission lets one do, as the 403 page names it.
PERMISSION_NAMES = {
    "refund_order": gettext_lazy("refund orders"),
    "decide_withdrawal": gettext_lazy("decide withdrawals and export payouts"),
    "configure_plan": gettext_lazy("change the plans' settings"),
    "manage_products": gettext_lazy("manage products"),
    "close_day": gettext_lazy("close a business day"),
    "run_campaigns": gettext_lazy("run campaigns"),
    "manage_promoters": gettext_lazy("decide promoter applications"),
    "view_office": gettext_lazy("see the back office"),
}


def is_office_user(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_staff)


@dataclass(frozen=True)
class OfficeUser:
    """The logged-in operator as the layout shows it: name, roles, and ``can`` (permission codename -> True)."""

    username: str
    name: str
    roles: tuple[str, ...]
    can: dict[str, bool] = field(default_factory=dict)
    superuser: bool = False

    @property
    def role_label(self) -> str:
        if self.roles:
            return " · ".join(str(ROLE_NAMES.get(role, role)) for role in self.roles)
        return _("Superuser") if self.superuser else _("No role")

    def may_read(self, permission: str | None) -> bool:
        return permission is None or self.can.get(VIEW_OFFICE, False) or self.can.get(permission, False)

    def may_act(self, permission: str | None) -> bool:
        return permission is not None and self.can.get(permission, False)

    @property
    def nav(self) -> list[NavEntry]:
        """The side navigation's entries this user may open."""
        return [entry for entry in NAV if self.may_read(entry.permission)]


def office_user_of(user: Any) -> OfficeUser:
    held = {code: True for code in PERMISSION_CODES if user.has_perm(f"accounts.{code}")}
    roles = tuple(sorted(set(user.groups.values_list("name", flat=True)) & OFFICE_ROLES.keys(),
                         key=list(OFFICE_ROLES).index))
    name = user.get_full_name() or user.get_username()
    return OfficeUser(user.get_username(), name, roles, held, bool(user.is_superuser))


def login_url(next_path: str) -> str:
    return reverse("office:login") + "?" + urlencode({"next": next_path})


def forbidden(request: HttpRequest, needed: str | None, *, office: OfficeUser | None = None) -> HttpResponse:
    """The 403 page: what the page needs, and who is logged in."""
    what = PERMISSION_NAMES.get(needed or "", "") if needed else ""
    return render(request, "office/forbidden.html", {"needed": needed, "needed_text": what,
                                                     "office_user": office}, status=403)


def office_view(permission: str | None = None) -> Callable[[View], View]:
    """The view of a back-office page: see the module's docstring. ``permission`` is an operator permission's
    codename (``accounts.models.OPERATOR_PERMISSIONS``)."""
    assert permission is None or permission in PERMISSION_CODES, f"unknown permission {permission}"

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return HttpResponseRedirect(login_url(request.get_full_path()))
            if not is_office_user(user):
                return forbidden(request, VIEW_OFFICE)
            office = office_user_of(user)
            request.office = office  # type: ignore[attr-defined]
            reading = request.method in READ_METHODS
            allowed = office.may_read(permission) if reading else office.may_act(permission)
            if not allowed:
                return forbidden(request, permission or VIEW_OFFICE, office=office)
            return view(request, *args, **kwargs)

        wrapper.office_permission = permission  # type: ignore[attr-defined]  # (the access tests read it)
        return wrapper  # type: ignore[return-value]

    return decorate


def office_of(request: HttpRequest) -> OfficeUser:
    office: OfficeUser = request.office  # type: ignore[attr-defined]
    return office


def safe_next(request: HttpRequest, default: str, name: str = "next") -> str:
    """Where to go after a login or an action: a path of the back office only (never another host)."""
    target = request.POST.get(name) or request.GET.get(name) or ""
    if (target.startswith("/office/") and not target.startswith("//") and "\\" not in target
            and len(target) <= 512):
        return target
    return default
