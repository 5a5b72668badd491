"""The back office's audit log page: every action with who, when, what, on what, its event's outcome and the target
before and after; filters by actor, action and target; older pages by keyset."""

from __future__ import annotations

import re
from typing import Any

import pytest
from api_client import Register, buy, make_shop
from django.utils import timezone
from office_client import cell, office_browser, post, row_of
from page_client import page

from liandong.web.accounts.models import AuditLog

pytest_plugins = ["api_fixtures"]
pytestmark = pytest.mark.django_db


@pytest.fixture
def decided(db: None, api_settings: Any, register_member: Register) -> dict[str, Any]:
    """fiona approved one of alice's withdrawals and rejected another."""
    make_shop(start=timezone.now() - timezone.timedelta(days=1))
    alice = register_member("alice")
    buy(alice)
    buy(register_member("bob", inviter=alice))
    ws = [alice.post("/api/withdrawals", {"amount": "20.00", "payee": "alipay:1"}).body["withdrawal"] for _ in "ab"]
    finance = office_browser("finance", "fiona")
    post(finance, f"/office/withdrawals/{ws[0]}/approve")
    post(finance, f"/office/withdrawals/{ws[1]}/reject", reason="wrong account")
    return {"withdrawals": ws}


def ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-audit-row="(\d+)"', html)]


def test_the_log_shows_who_what_and_before_and_after(decided: dict[str, Any]) -> None:
    _approved, rejected = decided["withdrawals"]
    for lang in ("en", "zh-hans"):
        status, html = page(office_browser("read-only", f"reader-{lang}"), "/office/audit", lang)
        assert status == 200
        row = row_of(html, "audit-row", str(AuditLog.objects.get(target=rejected).id))
        assert (cell(row, "actor"), cell(row, "action"), cell(row, "target")) == ("fiona", "reject_withdrawal",
                                                                                   rejected)
        assert 'data-outcome="applied"' in row
        assert '"status": "requested"' in cell(row, "before") and '"status": "rejected"' in cell(row, "after")
        assert '"reason": "wrong account"' in cell(row, "detail")
    assert ids(html) == sorted(AuditLog.objects.values_list("id", flat=True), reverse=True)  # newest first


def test_the_filters_pick_by_actor_action_and_target(decided: dict[str, Any]) -> None:
    approved, _rejected = decided["withdrawals"]
    owner = office_browser("owner")
    assert ids(page(owner, "/office/audit?action=approve_withdrawal", "en")[1]) == [
        AuditLog.objects.get(action="approve_withdrawal").id]
    assert ids(page(owner, f"/office/audit?target={approved}", "en")[1]) == [AuditLog.objects.get(target=approved).id]
    assert len(ids(page(owner, "/office/audit?actor=fiona", "en")[1])) == 2
    assert ids(page(owner, "/office/audit?actor=nobody", "en")[1]) == []
    status, html = page(owner, "/office/audit?after=x1", "en")
    assert status == 400 and 'data-bad-filter="after"' in html


def test_older_rows_are_on_the_next_page(decided: dict[str, Any]) -> None:
    for n in range(60):
        AuditLog.objects.create(actor="olga", action="export_payouts", target="approved", detail={"n": n})
    owner = office_browser("owner")
    first = page(owner, "/office/audit?actor=olga", "en")[1]
    next_link = re.search(r'href="\?actor=olga&amp;after=(\d+)" rel="next"', first)
    assert next_link is not None and len(ids(first)) == 50
    second = page(owner, f"/office/audit?actor=olga&after={next_link.group(1)}", "en")[1]
    assert len(ids(second)) == 10 and 'rel="next"' not in second
    everyone = sorted(AuditLog.objects.filter(actor="olga").values_list("id", flat=True), reverse=True)
    assert ids(first) + ids(second) == everyone
