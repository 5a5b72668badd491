"""The proof of liabilities in the service (docs/proof-of-liabilities.md): the worker commits a day's root and
leaves with the close, the same root as a replay of the log gives; the public page ``/liabilities`` shows the root,
the total owed by field and the member count to anyone, and a logged-in member its own leaf (what it is owed and
its debt) with its path, which verifies against the published root and total; the download is that path, for the
member only; a day closed again keeps its first proof; both languages."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from page_client import logged_in, page

from every_page import DemoShop, build_demo_shop
from liandong.service.liabilities import FIELDS, OWED, fen_text, snapshot, verify_proof, verify_proof_file
from liandong.service.liability_days import day_tree, liabilities_secret
from liandong.service.store.models import Balance, LiabilityDay, LiabilityLeaf, LoggedEvent, ShopSetup
from liandong.service.worker import build_engine, replay_log

pytest_plugins = ["api_fixtures"]


@pytest.fixture
def demo_shop(db: None, api_settings: Any) -> DemoShop:
    return build_demo_shop()


def data_block(html: str, name: str) -> Any:
    found = re.search(rf'<script id="{name}" type="application/json">(.*?)</script>', html, re.S)
    assert found, f"no {name} block"
    return json.loads(found.group(1))


def visible(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", re.sub(r"<script\b.*?</script>", " ", html, flags=re.S))


def test_the_close_commits_the_days_tree_and_a_replay_gives_the_same_root(demo_shop: DemoShop) -> None:
    day = LiabilityDay.objects.get()
    leaves = LiabilityLeaf.objects.filter(day=day.day)
    assert day.members == leaves.count() == len(demo_shop.members) == 5
    assert day_tree(day).root.hex() == day.root
    for name in FIELDS:  # the stored sums are the leaves' sums
        assert getattr(day, name) == sum(getattr(leaf, name) for leaf in leaves), name
    assert day.points > 0 and day.available > 0 and day.help_fund > 0  # the demo's close released points
    close = LoggedEvent.objects.get(position=day.position)
    assert close.verb == "close_day" and close.payload["day"] == day.day.isoformat()
    # replaying the log up to the close, as a restarted worker or `liandong verify` does, gives the same root
    engine = build_engine(ShopSetup.objects.get())
    for _chunk in replay_log(engine, False, day.position):
        pass
    assert engine.last_closed_day == day.day
    assert snapshot(engine, day.day.isoformat(), liabilities_secret()).root.hex() == day.root
    # the balances committed later (the next day's tea, ann's withdrawal) are not in the day's tree
    ann = LiabilityLeaf.objects.get(day=day.day, member=demo_shop.ann.member)
    assert ann.withdrawing == 0
    assert Balance.objects.get(owner=demo_shop.ann.member, book="withdrawing").amount == 5000


def test_a_day_closed_again_keeps_its_first_proof(demo_shop: DemoShop) -> None:
    from liandong.service.log import append_event
    from liandong.service.worker import drain

    first = LiabilityDay.objects.get()
    append_event("close_day", {"day": first.day.isoformat()}, key="test:close-again", request_hash="again",
                 actor="system")
    drain()
    again = LiabilityDay.objects.get()
    assert (again.id, again.root, again.position) == (first.id, first.root, first.position)
    assert LiabilityLeaf.objects.filter(day=first.day).count() == first.members


def test_the_public_page_shows_the_root_the_total_and_the_members(demo_shop: DemoShop) -> None:
    day = LiabilityDay.objects.get()
    status, html = page(Client(), "/liabilities", "en")
    assert status == 200
    assert "Proof of liabilities" in html and day.root in html
    owed = sum(getattr(day, name) for name in OWED)
    assert re.search(rf'data-figure="owed">{re.escape(fen_text(owed))}<', html)
    for name in OWED:
        assert re.search(rf'data-field="{name}"><td>[^<]+</td><td class="num money">'
                         rf'{re.escape(fen_text(getattr(day, name)))}</td>', html), name
    assert "5 members" in html and f"Members' debts to the shop: {fen_text(day.debt)}" in html
    published = data_block(html, "liabilities-published")
    assert published["root"] == day.root and published["total"]["owed"] == fen_text(owed)
    assert published["total"]["members"] == 5
    assert "data-my-leaf" not in html and "liabilities-proof" not in html and "data-log-in" in html
    for member in demo_shop.members.values():  # nobody's id or salt on the public page
        assert member.member is not None and member.member not in html
    for salt in LiabilityLeaf.objects.values_list("salt", flat=True):
        assert salt not in html
    assert f'data-day="{day.day.isoformat()}"' in html  # the list of closes
    zh_status, zh = page(Client(), "/liabilities", "zh-hans")
    assert zh_status == 200 and '<html lang="zh-hans">' in zh and day.root in zh


def test_a_member_sees_its_leaf_and_its_path_verifies(demo_shop: DemoShop, tmp_path: Path) -> None:
    day = LiabilityDay.objects.get()
    ann = demo_shop.ann
    leaf = LiabilityLeaf.objects.get(day=day.day, member=ann.member)
    client = logged_in(ann)
    status, html = page(client, "/liabilities", "en")
    assert status == 200 and "data-my-leaf" in html and "Verify in this browser" in html
    assert 'href="/liabilities" data-link="liabilities"' in page(client, "/me", "en")[1]  # linked from 我的
    owed = sum(getattr(leaf, name) for name in OWED)
    assert re.search(rf'data-figure="my-owed">{re.escape(fen_text(owed))}<', html)
    assert re.search(rf'data-figure="my-debt">{re.escape(fen_text(leaf.debt))}<', html)
    proof = data_block(html, "liabilities-proof")
    assert proof["member"] == ann.member and proof["salt"] == leaf.salt
    assert proof["leaf"] == {name: fen_text(getattr(leaf, name)) for name in FIELDS}
    day_owed = sum(getattr(day, name) for name in OWED)
    verdict = verify_proof(proof, day.root, day_owed, day.members)
    assert verdict.ok, verdict.problems
    assert f"--root {day.root} --total {fen_text(day_owed)}" in html  # the command line to run
    # the download: the same path, an attachment, checked by `liandong verify-liabilities`
    r = client.get("/liabilities/proof.json")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/json")
    assert r["Content-Disposition"] == f'attachment; filename="liabilities-{day.day.isoformat()}.json"'
    assert "no-store" in r["Cache-Control"]
    assert json.loads(r.content) == proof
    assert client.get(f"/liabilities/proof.json?day={day.day.isoformat()}").content == r.content
    saved = tmp_path / "liabilities.json"
    saved.write_bytes(r.content)
    assert verify_proof_file(saved, day.root, fen_text(day_owed), day.members)[0] == 0
    assert verify_proof_file(saved, day.root, fen_text(day_owed + 1), day.members)[0] == 1
    # every member's path verifies against the published figures
    for member in demo_shop.members.values():
        path = json.loads(logged_in(member).get("/liabilities/proof.json").content)
        assert verify_proof(path, day.root, day_owed, day.members).ok, member.username
        assert path["member"] == member.member


def test_the_download_is_the_members_only(demo_shop: DemoShop) -> None:
    visitor = Client().get("/liabilities/proof.json")
    assert visitor.status_code == 401 and visitor.json()["code"] == "not_authenticated"
    client = logged_in(demo_shop.ann)
    assert client.get("/liabilities/proof.json?day=yesterday").status_code == 400
    missing = client.get("/liabilities/proof.json?day=2020-01-01")
    assert missing.status_code == 404 and missing.json()["field"] == "day"
    assert page(Client(), "/liabilities?day=2020-01-01", "en")[0] == 404
    assert page(Client(), "/liabilities?day=nonsense", "en")[0] == 404


def test_a_member_who_joined_after_the_close_is_told_so(demo_shop: DemoShop, api_settings: Any) -> None:
    from api_client import register

    late = register("late")
    status, html = page(logged_in(late), "/liabilities", "en")
    assert status == 200 and "data-not-in-tree" in html and "data-my-leaf" not in html
    r = logged_in(late).get("/liabilities/proof.json")
    assert r.status_code == 404 and r.json()["field"] == "member"


def test_before_any_close_the_page_says_so(db: None, api_settings: Any) -> None:
    from api_client import make_shop

    make_shop()
    status, html = page(Client(), "/liabilities", "en")
    assert status == 200 and "data-no-day-yet" in html and "liabilities-published" not in html
    assert Client().get("/liabilities/proof.json").status_code == 401


def test_each_close_has_its_own_tree(demo_shop: DemoShop, api_settings: Any) -> None:
    """A later close (today's, where the demo shop's clock is): a second root, the page lists both and shows the
    newest; an older day by ?day=."""
    from api_client import make_operator
    from django.utils import timezone

    first = LiabilityDay.objects.get()
    second_day = timezone.now().astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    closed = make_operator("operator2").post("/api/operator/close-day", {"day": second_day.isoformat()})
    assert closed.status == 200, closed.body
    second = LiabilityDay.objects.get(day=second_day)
    assert second.root != first.root
    assert second.withdrawing == 5000  # ann's withdrawal of the second day, still under review
    status, html = page(Client(), "/liabilities", "en")
    assert status == 200 and f'data-liability-day="{second_day.isoformat()}"' in html
    assert f'data-day="{first.day.isoformat()}"' in html and f'data-day="{second_day.isoformat()}"' in html
    status, html = page(Client(), f"/liabilities?day={first.day.isoformat()}", "en")
    assert status == 200 and first.root in html and f'data-liability-day="{first.day.isoformat()}"' in html
    path = json.loads(logged_in(demo_shop.ann).get(f"/liabilities/proof.json?day={second_day}").content)
    assert path["day"] == second_day.isoformat() and path["leaf"]["withdrawing"] == "50.00"
    assert verify_proof(path, second.root).ok


def test_a_published_proof_is_append_only(demo_shop: DemoShop) -> None:
    from django.db import DatabaseError, transaction

    day = LiabilityDay.objects.get()
    for change in (lambda: LiabilityDay.objects.filter(id=day.id).update(root="0" * 64),
                   lambda: LiabilityDay.objects.filter(id=day.id).delete(),
                   lambda: LiabilityLeaf.objects.filter(day=day.day).update(available=0),
                   lambda: LiabilityLeaf.objects.filter(day=day.day).delete()):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            change()
    assert LiabilityDay.objects.get().root == day.root


def drop_guards() -> None:
    """For the tampering below: the append-only triggers dropped inside the test's transaction (rolled back)."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("store_liabilityday", "store_liabilityleaf"):
            for suffix in ("no_update", "no_delete", "append_only", "no_truncate"):
                on = "" if connection.vendor == "sqlite" else f" ON {table}"
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_{suffix}{on}")


def test_liandong_verify_recomputes_each_days_proof(demo_shop: DemoShop) -> None:
    from liandong.service.verify import verify

    assert verify().ok, verify().differences
    drop_guards()
    day = LiabilityDay.objects.get()
    ann = demo_shop.ann.member
    kept = LiabilityLeaf.objects.get(day=day.day, member=ann).available
    LiabilityLeaf.objects.filter(day=day.day, member=ann).update(available=1)
    differences = verify().differences
    assert any(f"leaf of {ann}: expected" in d for d in differences), differences
    LiabilityLeaf.objects.filter(day=day.day, member=ann).update(available=kept)
    assert verify().ok
    LiabilityDay.objects.filter(id=day.id).update(pending=0)  # a published sum lowered
    differences = verify().differences
    assert differences == [differences[0]] and "liabilities" in differences[0], differences
    assert "the database has" in differences[0]
    LiabilityDay.objects.filter(id=day.id).update(position=day.position + 1)
    assert any("where the replay closed no day" in d for d in verify().differences)


def test_every_published_root_can_be_downloaded(demo_shop: DemoShop) -> None:
    day = LiabilityDay.objects.get()
    r = Client().get("/liabilities/roots.json")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/json")
    assert r["Content-Disposition"] == 'attachment; filename="liabilities-roots.json"'
    body = json.loads(r.content)
    assert body["format"] == "liandong-liabilities/1"
    assert body["days"] == [{"day": day.day.isoformat(), "root": day.root, "total": {
        **{name: fen_text(getattr(day, name)) for name in FIELDS}, "members": day.members,
        "owed": fen_text(sum(getattr(day, name) for name in OWED))}}]
    # a member's path checks against the archived figures
    path = json.loads(logged_in(demo_shop.ann).get("/liabilities/proof.json").content)
    archived = body["days"][0]
    assert verify_proof(path, archived["root"], sum(int(archived["total"][n].replace(".", "")) for n in OWED),
                        archived["total"]["members"]).ok
    assert 'href="/liabilities/roots.json"' in page(Client(), "/liabilities", "en")[1]
