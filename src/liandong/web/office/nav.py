"""The side navigation: one entry per page that exists, in the order shown, each with the permission its page's
``office_view`` states (an entry shows only to who may open it). A new page adds its entry here; no entry points at
a page not built yet."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy


@dataclass(frozen=True)
class NavEntry:
    """``name``: the page's URL name in the ``office`` namespace; the entry is highlighted on it and on every URL
    name starting with ``name + "_"`` (``withdrawals_csv``)."""

    name: str
    label: str | Promise
    permission: str | None
    icon: str

    def on(self, url_name: str | None) -> bool:
        return bool(url_name) and (url_name == self.name or str(url_name).startswith(self.name + "_"))


NAV: tuple[NavEntry, ...] = (
    NavEntry("home", gettext_lazy("Overview"), None, "⌂"),
    NavEntry("dashboard", gettext_lazy("Dashboard"), "view_office", "◫"),
    NavEntry("withdrawals", gettext_lazy("Withdrawals"), "decide_withdrawal", "¥"),
    NavEntry("reconciliation", gettext_lazy("Reconciliation"), "decide_withdrawal", "⇄"),
    NavEntry("holds", gettext_lazy("Held rewards"), "decide_withdrawal", "⚑"),
    NavEntry("promoters", gettext_lazy("Promoter applications"), "manage_promoters", "★"),
    NavEntry("audit", gettext_lazy("Audit log"), "view_office", "≡"),
    NavEntry("campaigns", gettext_lazy("Campaigns"), "run_campaigns", "◎"),
    NavEntry("orders", gettext_lazy("Orders and refunds"), "refund_order", "▤"),
    NavEntry("days", gettext_lazy("Day close"), "close_day", "◷"),
    NavEntry("plans", gettext_lazy("Plan settings"), "configure_plan", "⚙"),
    NavEntry("members", gettext_lazy("Members"), "view_office", "☺"),
    NavEntry("contests", gettext_lazy("Team contests"), "run_campaigns", "⚑"),
)
