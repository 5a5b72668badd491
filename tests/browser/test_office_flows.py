"""Issue 16's back-office flows in Chromium at desktop size (1280×800) on the demo shop of tests/every_page.py, each
role as docs/office.md's table gives it: an operator logs in through the office's login page, finds a member and
opens its referral tree; a finance user approves one withdrawal and rejects another with a reason (the member's own
withdraw page shows it), exports the payout CSV, which reconciles with the ledger, and cannot change a plan; the
owner previews a plan change (the preview's audit figures are those of the ``liandong audit`` command the page
prints, run on the same plans with the same sizes) and saves it, and the next order pays the new reward."""

from __future__ import annotations

import csv
import io
import json
import re
import shlex
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from api_client import PASSWORD, buy, register
from live_pages import Live, MemberPage
from office_client import office_user

from every_page import DemoShop, build_demo_shop
from liandong.service.store.models import Balance, LedgerEntry, LedgerTransaction, WithdrawalState
from liandong.sim.audit import pct
from liandong.web.office import plan_preview
from liandong.web.office.models import PlanPreview

AUDIT = {"members": 150, "days": 30, "stall_day": 15}  # the preview's smaller audit (as tests/web/test_office_plans)
LIANDONG = Path(sys.executable).parent / "liandong"


@pytest.fixture
def flow_shop(live: Live, office_roles: None) -> DemoShop:
    """The demo shop, and s1 (credited 100.00 when s1kid bought) asks to withdraw 20.00 too."""
    live.settings.OFFICE_PREVIEW_INLINE = True
    live.settings.OFFICE_PREVIEW_AUDIT = AUDIT
    shop = build_demo_shop()
    asked = shop.members["s1"].post("/api/withdrawals", {"amount": "20.00", "payee": "Alipay s1@example.com"})
    assert asked.status in (200, 201), asked.body
    return shop


def log_in(live: Live, username: str, role: str, lang: str = "en") -> MemberPage:
    """A new office user of ``role`` logs in through /office/login as a person does."""
    office_user(username, role)
    page = live.open_office(None, "/office/login?next=/office/", lang)
    page.page.fill("#o-username", username)
    page.page.fill("#o-password", PASSWORD)
    page.page.click("form button[type=submit]")
    page.page.wait_for_url("**/office/")
    return page


def fen(text: str) -> int:
    return int(Decimal(text.replace("¥", "").replace(",", "")) * 100)


def test_an_operator_finds_a_member_and_opens_its_tree(live: Live, flow_shop: DemoShop) -> None:
    operator = log_in(live, "oscar", "operator")
    page = operator.page
    page.click('[data-nav="members"]')
    page.fill("#q", "ann")
    page.press("#q", "Enter")
    page.wait_for_url("**/office/members?q=ann*")
    page.click('a[data-cell="name"]:text-is("ann")')
    ann = flow_shop.ann.member
    page.wait_for_url(f"**/office/members/{ann}")
    page.locator(f'details.member-tree[data-lazy="/office/members/{ann}/tree"] > summary').click()
    page.wait_for_selector(f'ul.member-level[data-of="{ann}"] > li')
    shown = page.locator(f'ul.member-level[data-of="{ann}"] > li').evaluate_all(
        "items => items.map(li => li.dataset.member)")
    assert set(shown) == {flow_shop.members[n].member for n in ("s1", "s2", "bob")}
    assert operator.problems == [], operator.problems


def test_finance_decides_withdrawals_exports_the_payouts_and_cannot_change_a_plan(
        live: Live, flow_shop: DemoShop, tmp_path: Path) -> None:
    ann, s1 = flow_shop.ann, flow_shop.members["s1"]
    approved = WithdrawalState.objects.get(member=ann.member).withdrawal
    rejected = WithdrawalState.objects.get(member=s1.member).withdrawal
    finance = log_in(live, "fiona", "finance")
    page = finance.page
    page.click('[data-nav="withdrawals"]')
    page.wait_for_selector(f'tr[data-withdrawal="{approved}"]')
    page.click(f'tr[data-withdrawal="{approved}"] form[action$="/approve"] button')
    page.wait_for_selector(f'tr[data-withdrawal="{approved}"]', state="detached")  # the queue shows what waits
    row = page.locator(f'tr[data-withdrawal="{rejected}"]')
    row.locator("details summary").click()
    reason = "The payee account <name> does not match the member's"
    row.locator("textarea[name=reason]").fill(reason)
    row.locator("form[data-reject] button").click()
    page.wait_for_selector(f'tr[data-withdrawal="{rejected}"]', state="detached")
    live.settle()
    assert WithdrawalState.objects.get(withdrawal=approved).status == "approved"
    assert WithdrawalState.objects.get(withdrawal=rejected).status == "rejected"
    # the member reads the reason on its own withdraw page
    member = live.open(s1, "/withdraw", "en")
    shown = member.page.locator("[data-reject-reason]").first.inner_text()
    assert reason in shown and member.problems == [], member.problems
    # the payout CSV, downloaded from the queue's button, reconciles with the ledger
    page.goto(finance.base + "/office/withdrawals")
    with page.expect_download() as download:
        page.click('a[href="/office/withdrawals/payouts.csv"]')
    saved = tmp_path / "payouts.csv"
    download.value.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    assert [r["withdrawal"] for r in rows] == [approved] and rows[0]["member"] == "ann"
    row_amount, row_fee, row_net = fen(rows[0]["amount"]), fen(rows[0]["fee"]), fen(rows[0]["net"])
    assert row_amount == 5000 and row_fee + row_net == row_amount and row_fee == 50  # the plan's 1% fee
    withdrawing = {b.owner: b.amount for b in Balance.objects.filter(book="withdrawing") if b.amount}
    assert withdrawing == {ann.member: row_amount}  # s1's rejected amount went back to available
    booked = sum(e.amount for e in LedgerEntry.objects.filter(owner=ann.member, book="withdrawing"))
    assert booked == row_amount
    assert Balance.objects.get(owner=s1.member, book="withdrawing").amount == 0
    # a finance user cannot change a plan: no link to it, its page and its save refused
    assert page.locator('[data-nav="plans"]').count() == 0
    assert page.goto(finance.base + "/office/plans/chain21").status == 403
    refused = page.request.post(finance.base + "/office/plans/chain21/save",
                                form={"key": "ab" * 16, "version": "1", "c.direct_reward.agent": "120.00"})
    assert refused.status == 403
    assert not PlanPreview.objects.exists()
    assert [p for p in finance.problems if "403" not in p] == [], finance.problems


def test_the_owner_previews_a_plan_change_as_the_audit_says_saves_it_and_the_next_order_uses_it(
        live: Live, flow_shop: DemoShop, tmp_path: Path) -> None:
    owner = log_in(live, "olive", "owner")
    page = owner.page
    page.goto(owner.base + "/office/plans/chain21")
    page.fill('input[name="c.direct_reward.agent"]', "120.00")
    page.click("[data-preview-button]")
    page.wait_for_url("**/office/plans/chain21?preview=*", timeout=300_000)
    page.wait_for_selector("[data-audit-command]")
    preview = PlanPreview.objects.get()
    assert preview.status == "done", preview.error
    command = page.locator("[data-audit-command]").inner_text()
    assert command == "liandong audit plans.yaml --members 150 --days 30 --stall-day 15"
    shown = {figure: [page.locator(f'tr[data-figure="{figure}"] td[data-cell="{side}"]').inner_text().strip()
                      for side in ("current", "proposed")] for figure in ("audit_payout", "audit_loss")}
    verdicts = [page.locator(f'table[data-audit] td[data-cell="{side}"] [data-verdict]').first
                .get_attribute("data-verdict") for side in ("current", "proposed")]
    # the same command on the same plans (the current ones, then the proposed ones), as a person would run it
    figures: dict[str, list[str]] = {"audit_payout": [], "audit_loss": []}
    ran: list[str] = []
    for side, config in (("current", plan_preview.shop_plans("chain21", preview.current)),
                         ("proposed", plan_preview.shop_plans("chain21", preview.config))):
        folder = tmp_path / side
        folder.mkdir()
        (folder / "plans.yaml").write_text(yaml.safe_dump({"plans": config}))
        done = subprocess.run([str(LIANDONG), *shlex.split(command)[1:], "--out", "."], cwd=folder,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode in (0, 1), done.stderr  # 1: the audit found a failing check
        doc = json.loads((folder / "plans-audit.json").read_text())
        figures["audit_payout"].append(pct(doc["growth"]["totals"]["payout_ratio"]))
        figures["audit_loss"].append(pct(doc["growth"]["net_result"]["share_below_zero"]))
        ran.append(doc["verdict"])
    assert shown == figures and verdicts == ran
    # saved as a new version; the next order pays the new direct reward to its referrer
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("[data-save-button]")
    page.wait_for_selector('[data-current-version="2"]')
    s2 = flow_shop.members["s2"]
    newbie = register("newbie", inviter=s2)
    order = buy(newbie)
    live.settle()
    paid = sum(e.amount for t in LedgerTransaction.objects.filter(order=order, rule="direct_reward")
               for e in t.entries.filter(owner=s2.member))
    assert paid == 12000
    member = live.open(s2, "/earnings", "en")
    member.page.wait_for_load_state("networkidle")
    assert re.search(r"120\.00", member.page.content())
    assert owner.problems == [] and member.problems == [], (owner.problems, member.problems)
