"""Promoter applications in the back office (distribution eligibility ``approved``): the waiting list, approve and
reject with the reason the member reads, each the plan's operator event with its audit row; who may decide."""

from __future__ import annotations

from typing import Any

import pytest
from api_client import Register, make_shop
from django.utils import timezone
from office_client import cell, messages_of, office_browser, post, row_of
from page_client import page

from liandong.service.store.models import LoggedEvent
from liandong.web.accounts.models import AuditLog

pytest_plugins = ["api_fixtures"]
pytestmark = pytest.mark.django_db


@pytest.fixture
def applicants(db: None, api_settings: Any, register_member: Register) -> dict[str, Any]:
    make_shop(plans={"distribution": {"eligibility": "approved"}}, start=timezone.now() - timezone.timedelta(days=1))
    people = {name: register_member(name) for name in ("ann", "ben", "cat")}
    for name in ("ann", "ben"):
        assert people[name].post("/api/actions/apply_promoter", {}).status == 200
    return people


def application(member: Any) -> dict[str, Any]:
    read: dict[str, Any] = member.get("/api/me/plans/distribution").body
    return read


def test_the_waiting_applications_are_listed_by_name_in_both_languages(applicants: dict[str, Any]) -> None:
    owner = office_browser("owner")
    for lang, waiting in (("en", "Waiting"), ("zh-hans", "待审核")):
        status, html = page(owner, "/office/promoters", lang)
        assert status == 200
        assert {cell(row_of(html, "member", applicants[n].member), "name") for n in ("ann", "ben")} == {"ann", "ben"}
        assert f'data-member="{applicants["cat"].member}"' not in html
        assert waiting in html
    _status, home = page(owner, "/office/", "en")
    assert 'data-figure="pending_applications">2<' in home


def test_approving_makes_a_promoter_through_the_plans_event(applicants: dict[str, Any]) -> None:
    ann = applicants["ann"]
    status, html = post(office_browser("operator", "olga"), f"/office/promoters/{ann.member}/approve")
    assert status == 200 and messages_of(html)[0][0] == "success"
    read = application(ann)
    assert read["promoter"] is True and read["application"]["status"] == "approved"
    event = LoggedEvent.objects.get(verb="approve_promoter")
    assert event.payload["member"] == ann.member and event.actor == "operator:olga"
    row = AuditLog.objects.get(event_position=event.position)
    assert (row.actor, row.action, row.target) == ("olga", "approve_promoter", ann.member)
    assert (row.before["promoter"], row.before["application"]["status"]) == (False, "pending")
    assert (row.after["promoter"], row.after["application"]["status"]) == (True, "approved")
    _status, html = post(office_browser("owner"), f"/office/promoters/{ann.member}/approve")  # again: refused
    assert messages_of(html)[0][0] == "error" and "already approved" in messages_of(html)[0][1]


def test_a_rejection_needs_a_reason_which_the_member_reads(applicants: dict[str, Any]) -> None:
    ben = applicants["ben"]
    operator = office_browser("operator")
    _status, html = post(operator, f"/office/promoters/{ben.member}/reject", reason="")
    assert messages_of(html)[0][0] == "error" and not LoggedEvent.objects.filter(verb="reject_promoter").exists()
    _status, html = post(operator, f"/office/promoters/{ben.member}/reject", reason="no shop photos yet")
    assert messages_of(html)[0][0] == "success"
    read = application(ben)
    assert (read["promoter"], read["application"]["status"], read["application"]["reason"]) == (
        False, "rejected", "no shop photos yet")
    _status, html = page(operator, "/office/promoters?list=rejected", "en")
    assert cell(row_of(html, "member", ben.member), "reason") == "Reason: no shop photos yet"
    assert AuditLog.objects.get(action="reject_promoter").after["application"]["reason"] == "no shop photos yet"


def test_finance_and_read_only_cannot_decide(applicants: dict[str, Any]) -> None:
    ann = applicants["ann"]
    assert office_browser("finance").post(f"/office/promoters/{ann.member}/approve").status_code == 403
    reader = office_browser("read-only")
    assert reader.get("/office/promoters").status_code == 200
    assert reader.post(f"/office/promoters/{ann.member}/approve", {"key": "ab" * 16}).status_code == 403
    assert not LoggedEvent.objects.filter(verb="approve_promoter").exists()
    assert "/approve" not in page(reader, "/office/promoters", "en")[1]  # no buttons for who cannot act


def test_a_shop_without_the_plan_says_so(db: None, api_settings: Any) -> None:
    make_shop()
    status, html = page(office_browser("owner"), "/office/promoters", "en")
    assert status == 200 and "data-not-running" in html
