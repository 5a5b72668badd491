"""Every back-office page (each url name of ``liandong.web.office.urls``, under /office/) and how to reach it on the
demo shop of tests/every_page.py (``build_demo_shop``: ann's withdrawal of 50.00 waits in the queue, a group-buy
lottery ``gb-demo`` and a blind-box offer are published, a day is closed).

``OFFICE_PAGES`` maps a url name to an ``OfficePage``: how to build its path from the ``DemoShop``, the role that
looks at it (docs/office.md's role table: ``owner`` sees every page; ``visitor`` is nobody logged in) and what it
answers: ``html`` pages are screenshot in both languages by tests/browser/test_office_screenshots.py; a
``fragment`` (the referral tree's levels, fetched by ``office/members.js``) and the ``csv`` exports answer 200 with
their type there too; a ``json`` answer and the ``post`` actions (every change is a POST through ``office_act``) are
listed so that the table is complete, and are exercised by the tests of tests/web/test_office_*.py and
tests/browser/test_office_flows.py. tests/test_office_pages_table.py fails when a url name of the office is missing
here: a new office page gets its line, and so its screenshots.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from every_page import DemoShop
from liandong.service.store.models import WithdrawalState

Role = Literal["owner", "operator", "finance", "read-only", "visitor"]
Kind = Literal["html", "fragment", "csv", "json", "post"]


@dataclass(frozen=True)
class OfficePage:
    path: Callable[[DemoShop], str]
    role: Role = "owner"
    kind: Kind = "html"


def withdrawal(shop: DemoShop) -> str:
    """Ann's withdrawal (the demo shop's only one)."""
    return WithdrawalState.objects.get(member=shop.ann.member).withdrawal


OFFICE_PAGES: dict[str, OfficePage] = {
    "home": OfficePage(lambda s: "/office/"),
    "login": OfficePage(lambda s: "/office/login", role="visitor"),
    "logout": OfficePage(lambda s: "/office/logout", kind="post"),
    "withdrawals": OfficePage(lambda s: "/office/withdrawals"),
    "withdrawals_approve_many": OfficePage(lambda s: "/office/withdrawals/approve", role="finance", kind="post"),
    "withdrawals_csv": OfficePage(lambda s: "/office/withdrawals/payouts.csv", kind="csv"),
    "withdrawals_approve": OfficePage(lambda s: f"/office/withdrawals/{withdrawal(s)}/approve", role="finance",
                                      kind="post"),
    "withdrawals_reject": OfficePage(lambda s: f"/office/withdrawals/{withdrawal(s)}/reject", role="finance",
                                     kind="post"),
    "withdrawals_mark_paid": OfficePage(lambda s: f"/office/withdrawals/{withdrawal(s)}/mark-paid", role="finance",
                                        kind="post"),
    "promoters": OfficePage(lambda s: "/office/promoters"),
    "promoters_approve": OfficePage(lambda s: f"/office/promoters/{s.ann.member}/approve", role="operator",
                                    kind="post"),
    "promoters_reject": OfficePage(lambda s: f"/office/promoters/{s.ann.member}/reject", role="operator",
                                   kind="post"),
    "promoters_revoke": OfficePage(lambda s: f"/office/promoters/{s.ann.member}/revoke", role="operator",
                                   kind="post"),
    "audit": OfficePage(lambda s: "/office/audit"),
    "campaigns": OfficePage(lambda s: "/office/campaigns"),
    "campaigns_new": OfficePage(lambda s: "/office/campaigns/new/group_buy"),
    "offer": OfficePage(lambda s: f"/office/campaigns/offers/{s.offer}"),
    "offer_edit": OfficePage(lambda s: f"/office/campaigns/offers/{s.offer}/edit", role="operator", kind="post"),
    "offer_publish": OfficePage(lambda s: f"/office/campaigns/offers/{s.offer}/publish", role="operator",
                                kind="post"),
    "offer_retire": OfficePage(lambda s: f"/office/campaigns/offers/{s.offer}/retire", role="operator",
                               kind="post"),
    "campaigns_page": OfficePage(lambda s: f"/office/campaigns/{s.campaign}"),
    "campaigns_edit": OfficePage(lambda s: f"/office/campaigns/{s.campaign}/edit", role="operator", kind="post"),
    "campaigns_publish": OfficePage(lambda s: f"/office/campaigns/{s.campaign}/publish", role="operator",
                                    kind="post"),
    "campaigns_close": OfficePage(lambda s: f"/office/campaigns/{s.campaign}/close", role="operator", kind="post"),
    "orders": OfficePage(lambda s: "/office/orders"),
    "orders_order": OfficePage(lambda s: f"/office/orders/{s.order}"),
    "orders_refund": OfficePage(lambda s: f"/office/orders/{s.order}/refund"),  # its GET is the refund's form
    "days": OfficePage(lambda s: "/office/days"),
    "days_close": OfficePage(lambda s: "/office/days/close", role="operator", kind="post"),
    "plans": OfficePage(lambda s: "/office/plans"),
    # a preview's progress, polled by the plan page (tests/web/test_office_plans.py reads it after a preview)
    "plans_preview_status": OfficePage(lambda s: "/office/plans/previews/1", kind="json"),
    "plans_plan": OfficePage(lambda s: "/office/plans/chain21"),
    "plans_preview": OfficePage(lambda s: "/office/plans/chain21/preview", kind="post"),
    "plans_save": OfficePage(lambda s: "/office/plans/chain21/save", kind="post"),
    "dashboard": OfficePage(lambda s: "/office/dashboard"),
    "dashboard_csv": OfficePage(lambda s: "/office/dashboard/sales.csv", kind="csv"),
    "members": OfficePage(lambda s: "/office/members?q=ann"),
    "members_member": OfficePage(lambda s: f"/office/members/{s.ann.member}"),
    "members_tree": OfficePage(lambda s: f"/office/members/{s.ann.member}/tree", kind="fragment"),
    "members_team": OfficePage(lambda s: f"/office/members/{s.ann.member}/team", kind="fragment"),
    "members_reparent": OfficePage(lambda s: f"/office/members/{s.ann.member}/reparent", kind="post"),
    "reconciliation": OfficePage(lambda s: "/office/reconciliation", role="finance"),  # the bill's upload form
    "holds": OfficePage(lambda s: "/office/holds", role="finance"),
    "holds_release": OfficePage(lambda s: "/office/holds/h1/release", role="finance", kind="post"),
    "holds_reject": OfficePage(lambda s: "/office/holds/h1/reject", role="finance", kind="post"),
    "holds_ban": OfficePage(lambda s: f"/office/holds/ban/{s.ann.member}", role="finance", kind="post"),
    "contests": OfficePage(lambda s: "/office/contests"),
    "contests_create": OfficePage(lambda s: "/office/contests/create", role="operator", kind="post"),
    "contests_board_setting": OfficePage(lambda s: "/office/contests/board-setting", role="operator", kind="post"),
}

#: The office pages a person looks at: screenshot in both languages.
OFFICE_HTML_PAGES: dict[str, OfficePage] = {name: p for name, p in OFFICE_PAGES.items() if p.kind == "html"}
