"""Plan settings in the back office: the form (every key, validated with the plan's model, each change against the
current version), the preview (the shop's history replayed under the proposed config beside the current one, and
the audit, whose figures equal a ``liandong audit`` run of the same plans), saving as a new version through
office_act (the API's configure_plan event, for later events), the versions with their changes and who made them."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from api_client import Register, buy, make_shop
from django.utils import timezone
from office_client import cell, key, messages_of, office_browser, row_of
from page_client import page
from rich.console import Console

from liandong.service.store.models import Balance, LoggedEvent
from liandong.sim.commands import audit_command
from liandong.web.accounts.models import AuditLog
from liandong.web.office import plan_preview
from liandong.web.office.models import PlanPreview

pytest_plugins = ["api_fixtures"]
AUDIT = {"members": 150, "days": 30, "stall_day": 15}


@pytest.fixture
def preview_settings(api_settings: Any) -> Any:
    api_settings.OFFICE_PREVIEW_INLINE = True
    api_settings.OFFICE_PREVIEW_AUDIT = AUDIT
    return api_settings


def setup_shop(register_member: Register) -> dict[str, Any]:
    """chain21: alice buys a gift pack, bob (her referral) one: alice is credited the agent's 100.00."""
    make_shop(plans={"chain21": {}}, start=timezone.now() - timezone.timedelta(days=1))
    alice = register_member("alice")
    buy(alice)
    bob = register_member("bob", inviter=alice)
    buy(bob)
    return {"alice": alice, "bob": bob}


@pytest.fixture
def shop(db: None, preview_settings: Any, register_member: Register) -> dict[str, Any]:
    return {**setup_shop(register_member), "owner": office_browser("owner", "owen")}


def form(version: int = 1, **changes: str) -> dict[str, str]:
    return {"key": key(), "version": str(version), **{f"c.{k.replace('__', '.')}": v for k, v in changes.items()}}


def test_the_form_shows_every_key_and_a_review_shows_each_change(shop: dict[str, Any]) -> None:
    owner = shop["owner"]
    status, html = page(owner, "/office/plans/chain21", "en")
    assert status == 200 and 'data-current-version="1"' in html
    assert 'name="c.direct_reward.agent" value="100.00"' in html and 'name="c.team_reward" value="200.00"' in html
    before = LoggedEvent.objects.count()
    r = owner.post("/office/plans/chain21", form(direct_reward__agent="120.00"), HTTP_ACCEPT_LANGUAGE="en")
    html = r.content.decode()
    change = row_of(html, "change", "direct_reward.agent")
    assert r.status_code == 200 and (cell(change, "old"), cell(change, "new")) == ("100.00", "120.00")
    assert len(re.findall(r"<tr data-change=", html)) == 1
    r = owner.post("/office/plans/chain21", form(team_reward="abc"), HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 400 and 'data-problem="team_reward"' in r.content.decode()
    assert 'value="abc"' in r.content.decode()  # what was typed comes back with the problem
    r = owner.post("/office/plans/chain21", {**form(), "j.skus": '["GIFT"]'}, HTTP_ACCEPT_LANGUAGE="en")
    skus = row_of(r.content.decode(), "change", "skus")
    assert (cell(skus, "old"), cell(skus, "new")) == ("–", '["GIFT"]')
    r = owner.post("/office/plans/chain21", {**form(), "j.skus": "["}, HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 400 and 'data-problem="skus"' in r.content.decode()
    assert LoggedEvent.objects.count() == before


def test_a_preview_shows_what_each_member_would_have_earned_beside_the_current_config(shop: dict[str, Any]) -> None:
    owner = shop["owner"]
    r = owner.post("/office/plans/chain21/preview", form(direct_reward__agent="120.00"))
    assert r.status_code == 302
    preview = PlanPreview.objects.get()
    assert r["Location"] == f"/office/plans/chain21?preview={preview.id}"
    assert preview.status == "done" and preview.progress == 1.0, preview.error
    assert preview.changes == [["direct_reward.agent", "100.00", "120.00"]]
    status, html = page(owner, r["Location"], "en")
    assert status == 200
    alice = row_of(html, "member", shop["alice"].member)
    assert (cell(alice, "name"), cell(alice, "current"), cell(alice, "proposed"), cell(alice, "difference")) == (
        "alice", "¥100.00", "¥120.00", "+¥20.00")
    rewards = row_of(html, "figure", "rewards")
    assert (cell(rewards, "current"), cell(rewards, "proposed")) == ("¥100.00", "¥120.00")
    # the history's current side is the shop as it is: the same rewards the worker committed
    assert Balance.objects.get(owner=shop["alice"].member, book="available").amount == 10000
    history = preview.result["history"]
    assert history["current"]["sales"] == history["proposed"]["sales"] == "1398.00"
    assert history["members_changed"] == 1
    assert 'data-audit-command' in html and "--members 150 --days 30 --stall-day 15" in html
    polled = json.loads(owner.get(f"/office/plans/previews/{preview.id}").content)
    assert polled["done"] and polled["status"] == "done" and polled["progress"] == 1.0
    assert not LoggedEvent.objects.filter(verb="configure_plan").exists()  # a preview logs nothing


def test_the_previews_audit_equals_a_liandong_audit_run_of_the_same_plans(shop: dict[str, Any],
                                                                            tmp_path: Path) -> None:
    shop["owner"].post("/office/plans/chain21/preview", form(team_reward="150.00"))
    preview = PlanPreview.objects.get()
    plans_file = tmp_path / "plans.yaml"
    plans_file.write_text(yaml.safe_dump({"plans": plan_preview.shop_plans("chain21", preview.config)}))
    quiet = Console(file=open(tmp_path / "out.txt", "w"))  # noqa: SIM115
    code = audit_command(plans_file, None, stall_day=AUDIT["stall_day"], workers=1, dask=None, out_dir=tmp_path,
                         console=quiet, err=quiet, members=AUDIT["members"], days=AUDIT["days"], seed=None)
    assert code in (0, 1)
    doc = json.loads((tmp_path / "plans-audit.json").read_text())
    assert preview.result["audit"]["proposed"] == plan_preview.audit_summary(doc)
    assert preview.result["audit"]["proposed"]["failing"] == [
        {k: c[k] for k in ("id", "title", "figure", "threshold")} for c in doc["checks"] if c["status"] == "fail"]
    assert preview.result["audit"]["current"] != preview.result["audit"]["proposed"]  # team_reward moves figures


def test_saving_logs_the_plans_update_event_as_a_new_version_for_later_events(shop: dict[str, Any],
                                                                             register_member: Register) -> None:
    owner = shop["owner"]
    r = owner.post("/office/plans/chain21/save", form(direct_reward__agent="120.00"), follow=True,
                   HTTP_ACCEPT_LANGUAGE="en")
    html = r.content.decode()
    assert messages_of(html)[0][0] == "success", messages_of(html)
    logged = LoggedEvent.objects.get(verb="configure_plan")
    assert logged.actor == "operator:owen" and logged.payload["config"]["direct_reward"]["agent"] == "120.00"
    version = int(re.search(r'data-current-version="(\d+)"', html).group(1))  # type: ignore[union-attr]
    assert version > 1
    row = row_of(html, "version", str(version))
    assert cell(row, "who") == "owen"
    assert re.search(r'data-changed="direct_reward.agent"><code>direct_reward.agent</code>: 100.00 → 120.00<', row)
    audit = AuditLog.objects.get(action="configure_plan")
    assert audit.before["config"]["direct_reward"]["agent"] == "100.00"
    assert audit.after["config"]["direct_reward"]["agent"] == "120.00" and audit.after["version"] == version
    carl = register_member("carl", inviter=shop["alice"])  # a later order pays under the new version
    buy(carl)
    assert Balance.objects.get(owner=shop["alice"].member, book="available").amount == 10000 + 12000
    stale = owner.post("/office/plans/chain21/save", form(1, team_reward="150.00"))  # built on version 1
    assert stale.status_code == 409 and LoggedEvent.objects.filter(verb="configure_plan").count() == 1


def test_one_preview_runs_at_a_time(shop: dict[str, Any]) -> None:
    busy = PlanPreview.objects.create(plan="chain21", config={}, current={}, version=1, requested_by="x",
                                      status="running")
    r = shop["owner"].post("/office/plans/chain21/preview", form(team_reward="150.00"), follow=True,
                           HTTP_ACCEPT_LANGUAGE="en")
    assert messages_of(r.content.decode())[0] == ("error", f"Preview {busy.id} is still running: wait for it to "
                                                           "finish, then preview again.")
    assert PlanPreview.objects.count() == 1


def test_saving_nothing_changed_logs_nothing(shop: dict[str, Any]) -> None:
    r = shop["owner"].post("/office/plans/chain21/save", form(), follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert messages_of(r.content.decode())[0][0] == "info"
    assert not LoggedEvent.objects.filter(verb="configure_plan").exists()


@pytest.mark.parametrize("role", ["operator", "read-only", "finance"])
def test_only_the_owner_changes_a_plan(shop: dict[str, Any], role: str) -> None:
    browser = office_browser(role)
    for path in ("/office/plans/chain21/save", "/office/plans/chain21/preview", "/office/plans/chain21"):
        assert browser.post(path, form(team_reward="150.00")).status_code == 403, path
    assert not LoggedEvent.objects.filter(verb="configure_plan").exists() and not PlanPreview.objects.exists()
    status, html = page(browser, "/office/plans/chain21", "en")
    if role == "finance":
        assert status == 403
    else:
        assert status == 200 and "data-save-button" not in html and "disabled" in html


def test_the_page_is_in_chinese_too(shop: dict[str, Any]) -> None:
    status, html = page(shop["owner"], "/office/plans/chain21", "zh-hans")
    assert status == 200 and "data-plan-form" in html
    assert page(shop["owner"], "/office/plans/nothing", "en")[0] == 404


@pytest.mark.django_db(transaction=True)
def test_the_preview_runs_in_the_background_and_the_page_polls_its_progress(
        api_settings: Any, register_member: Register) -> None:
    api_settings.OFFICE_PREVIEW_AUDIT = AUDIT
    found = setup_shop(register_member)
    owner = office_browser("owner", "owen")
    r = owner.post("/office/plans/chain21/preview", form(direct_reward__agent="110.00"))
    preview_id = PlanPreview.objects.get().id
    html = page(owner, r["Location"], "en")[1]
    assert "data-preview-progress" in html or 'data-preview-status="done"' in html
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        polled = json.loads(owner.get(f"/office/plans/previews/{preview_id}").content)
        assert 0.0 <= polled["progress"] <= 1.0
        if polled["done"]:
            break
        time.sleep(0.2)
    assert polled["status"] == "done", PlanPreview.objects.get().error
    html = page(owner, r["Location"], "en")[1]
    assert cell(row_of(html, "member", found["alice"].member), "difference") == "+¥10.00"


@pytest.mark.django_db
def test_every_plan_of_the_shop_has_its_form_and_preview(preview_settings: Any, register_member: Register) -> None:
    make_shop(plans={"chain21": {}, "distribution": {}, "points": {}, "member_groups": {}},
              start=timezone.now() - timezone.timedelta(days=1))
    alice = register_member("alice")
    buy(alice)
    buy(register_member("bob", inviter=alice))
    owner = office_browser("owner", "owen")
    html = page(owner, "/office/plans", "en")[1]
    assert re.findall(r'<tr data-plan="([a-z0-9_]+)"', html) == ["chain21", "distribution", "points", "member_groups"]
    for plan in ("chain21", "distribution", "points", "member_groups"):
        status, html = page(owner, f"/office/plans/{plan}", "en")
        assert status == 200 and "data-plan-form" in html, plan
    assert 'name="j.groups"' in page(owner, "/office/plans/member_groups", "en")[1]  # a mapping of mappings: JSON
    r = owner.post("/office/plans/points/preview", form(mint_ratio="0.50"))
    preview = PlanPreview.objects.get()
    assert preview.status == "done", preview.error
    history = preview.result["history"]
    assert history["current"]["committed"] == history["proposed"]["committed"]  # the reserve: same rate
    html = page(owner, r["Location"], "en")[1]
    assert 'data-preview-status="done"' in html and "data-history" in html


@pytest.mark.django_db
def test_the_historys_current_side_is_the_shop_as_it_happened_when_another_plan_changed(
        preview_settings: Any, register_member: Register) -> None:
    """chain21 paid alice 100.00, then 120.00 after its change: previewing distribution, the current side's replay
    keeps chain21's change where it happened (alice 220.00, as the ledger says), not its latest config from the
    start."""
    make_shop(plans={"chain21": {}, "distribution": {"eligibility": "approved"}},
              start=timezone.now() - timezone.timedelta(days=1))
    alice = register_member("alice")
    buy(alice)
    buy(register_member("bob", inviter=alice))
    owner = office_browser("owner", "owen")
    owner.post("/office/plans/chain21/save", form(direct_reward__agent="120.00"))
    buy(register_member("carl", inviter=alice))
    assert Balance.objects.get(owner=alice.member, book="available").amount == 22000
    owner.post("/office/plans/distribution/preview", {**form(), "j.rates": '["0.20"]'})
    preview = PlanPreview.objects.get()
    assert preview.status == "done", preview.error
    assert preview.result["history"]["current"]["rewards"] == "220.00"
    assert preview.result["history"]["members_changed"] == 0  # nobody is an approved promoter: no commission
