"""The proof of liabilities page's "Verify in this browser" (``static/liandong/liabilities-verify.js``), in Debian's
Chromium: the member's own path verifies against the published root and total; a tampered path (a changed balance,
a changed total, a negative sum) is shown as a mismatch naming what differs; the browser and Python compute the same
root for random trees, and every member's path of a 10,000-member tree built in Python verifies in the browser;
where WebCrypto is not offered the page says so and points to ``liandong verify-liabilities``."""

from __future__ import annotations

import random
from typing import Any

import pytest
from api_client import make_shop
from draw_fixtures import ARTIFACTS
from live_pages import Live, MemberPage

from every_page import build_demo_shop
from liandong.service.liabilities import FIELDS, Leaf, LiabilityTree, fen_text, salt_for
from liandong.service.store.models import LiabilityDay

pytestmark = pytest.mark.browser

SHOTS = ARTIFACTS.parent / "liabilities"


def screenshot(opened: MemberPage, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    opened.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def verify(opened: MemberPage) -> str:
    opened.page.click("[data-verify-button]")
    opened.page.wait_for_selector("[data-verify-summary][data-verdict]")
    verdict: str = opened.page.get_attribute("[data-verify-summary]", "data-verdict")
    return verdict


def tamper(opened: MemberPage, block: str, change: str) -> None:
    """Change one of the page's data blocks: ``change`` is JS run on ``data`` (the parsed block)."""
    opened.page.evaluate(f"""() => {{
        const el = document.getElementById("{block}");
        const data = JSON.parse(el.textContent);
        {change};
        el.textContent = JSON.stringify(data);
    }}""")


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_a_member_verifies_its_path_and_a_tampered_one_is_a_mismatch(live: Live, lang: str) -> None:
    shop = build_demo_shop()
    day = LiabilityDay.objects.get()
    opened = live.open(shop.ann, "/liabilities", lang)
    opened.page.wait_for_function("window.LiandongLiabilities !== undefined")
    assert opened.page.inner_text('[data-figure="root"]') == day.root
    assert verify(opened) == "matches", opened.page.inner_text("[data-verify-summary]")
    owed = fen_text(sum(getattr(day, name) for name in FIELDS[:-1]))
    if lang == "en":
        text = opened.page.inner_text("[data-verify-summary]")
        assert text.startswith("Matches: your leaf and the") and f"published total of {owed} owed to 5 members" in text
    screenshot(opened, f"verified-{lang}")
    # a changed balance: the leaf no longer hashes to the tree's root
    tamper(opened, "liabilities-proof", 'data.leaf.available = "99999.00"')
    assert verify(opened) == "mismatch"
    if lang == "en":
        text = opened.page.inner_text("[data-verify-summary]")
        assert text.startswith("Does not match. What differs:")
        assert f"but the published root is {day.root}" in text
    screenshot(opened, f"tampered-leaf-{lang}")
    opened.page.reload()
    # a changed published total: the sums do not add up to it
    tamper(opened, "liabilities-published", 'data.total.pending = "0.01"')
    assert verify(opened) == "mismatch"
    if lang == "en":
        text = opened.page.inner_text("[data-verify-summary]")
        assert "for “Pending”, but the published total is 0.01." in text
    opened.page.reload()
    # a negative sum in the tree (an invented debt to hide a liability)
    tamper(opened, "liabilities-proof", 'data.path[0].sums.available = "-500.00"')
    assert verify(opened) == "mismatch"
    if lang == "en":
        assert "a negative amount in the tree: “Available” is -500.00 at step 1." in opened.page.inner_text(
            "[data-verify-summary]")
    assert opened.problems == []


def test_without_webcrypto_the_page_says_why_and_points_to_the_command(live: Live) -> None:
    shop = build_demo_shop()
    opened = live.open(shop.ann, None, "en")
    opened.page.context.add_init_script("Object.defineProperty(window, 'isSecureContext', {get: () => false});")
    opened.goto("/liabilities")
    opened.page.wait_for_selector("[data-verify-summary][data-verdict]")
    assert opened.page.get_attribute("[data-verify-summary]", "data-verdict") == "unavailable"
    assert opened.page.is_disabled("[data-verify-button]")
    text = opened.page.inner_text("[data-verify-summary]")
    assert "only on a secure page" in text and "liandong verify-liabilities" in text
    assert opened.page.get_attribute("[data-proof-link]", "href").startswith("/liabilities/proof.json?day=")


def random_tree(rng: random.Random, n: int, day: str) -> LiabilityTree:
    leaves = []
    for i in range(n):
        member = rng.choice(["m", "张", "é", "u"]) + f"{rng.getrandbits(32):x}{i}"
        amounts = [rng.choice((0, rng.randint(1, 10**9), rng.randint(1, 100))) for _ in FIELDS]
        leaves.append(Leaf(member, salt_for(b"browser-test", day, member), tuple(amounts)))
    return LiabilityTree.build(day, leaves)


def leaves_json(tree: LiabilityTree) -> list[dict[str, Any]]:
    return [{"member": leaf.member, "salt": leaf.salt.hex(),
             "amounts": {name: fen_text(v) for name, v in zip(FIELDS, leaf.amounts, strict=True)}}
            for leaf in tree.leaves]


def open_script_page(live: Live) -> MemberPage:
    make_shop()
    opened = live.open(None, "/liabilities", "en")
    opened.page.wait_for_function("window.LiandongLiabilities !== undefined")
    return opened


def test_the_browser_and_python_compute_the_same_root_for_random_trees(live: Live) -> None:
    opened = open_script_page(live)
    rng = random.Random(20261204)
    for n in [0, 1, 2, 3, 5, 8, 13, 31, 64, 100, 257]:
        day = f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        tree = random_tree(rng, n, day)
        built = opened.page.evaluate("([day, leaves]) => LiandongLiabilities.buildTree(day, leaves)",
                                     [day, leaves_json(tree)])
        assert built["root"] == tree.root.hex(), n
        if n:
            totals = tree.totals()
            assert built["totals"] == {**{name: fen_text(totals[name]) for name in FIELDS}, "members": n}
            proofs = [tree.proof(leaf.member) for leaf in tree.leaves]
            roots = opened.page.evaluate("ps => Promise.all(ps.map(p => LiandongLiabilities.rootOf(p)))", proofs)
            assert roots == [tree.root.hex()] * n
    assert opened.problems == []


def test_every_members_path_of_a_10000_member_tree_verifies_in_the_browser(live: Live) -> None:
    """The Python tree's levels go to the browser once; each member's path is read off them there (sibling
    ``index ^ 1``, as ``LiabilityTree.path``) and checked by ``LiandongLiabilities.verify`` against the root and
    total Python published. Then one changed balance, one leaf left out and one changed total must each fail."""
    opened = open_script_page(live)
    tree = random_tree(random.Random(10_000), 10_000, "2026-03-01")
    levels = [[[h.hex(), [*(str(v) for v in sums[:-1]), sums[-1]]] for h, sums in level] for level in tree.levels]
    published = {"root": tree.root.hex(), "total": tree.proof(tree.leaves[0].member)["total"]}
    result = opened.page.evaluate("""async ([day, leaves, levels, published]) => {
        const L = window.LiandongLiabilities;
        const money = (fen) => L.yuan(BigInt(fen));
        const sumsOf = (s) => Object.assign(Object.fromEntries(L.fields.map((f, i) => [f, money(s[i])])),
                                            {members: s[s.length - 1]});
        const proofOf = (i) => {
            const path = [];
            let index = i;
            for (let k = 0; k < levels.length - 1; k++) {
                const sibling = index ^ 1;
                if (sibling < levels[k].length) {
                    path.push({side: sibling < index ? "left" : "right", hash: levels[k][sibling][0],
                               sums: sumsOf(levels[k][sibling][1])});
                }
                index = index >> 1;
            }
            const [member, salt, amounts] = leaves[i];
            return {format: "liandong-liabilities/1", day, member, salt,
                    leaf: Object.fromEntries(L.fields.map((f, j) => [f, money(amounts[j])])), path,
                    root: published.root, total: published.total};
        };
        let ok = 0;
        const failed = [];
        for (let i = 0; i < leaves.length; i++) {
            const verdict = await L.verify(proofOf(i), published);
            if (verdict.ok) { ok += 1; } else if (failed.length < 3) { failed.push([i, verdict.problems]); }
        }
        const changed = proofOf(7);
        changed.leaf.pending = money(BigInt(leaves[7][2][1]) + 1n);
        const lessTotal = {root: published.root, total: Object.assign({}, published.total, {points: "0.00"})};
        const outsider = proofOf(11);
        outsider.member = outsider.member + "x";  // a member whose leaf is not in the tree
        return {ok, failed, changed: (await L.verify(changed, published)).problems.map(p => p.what),
                total: (await L.verify(proofOf(8), lessTotal)).problems.map(p => p.what),
                outsider: (await L.verify(outsider, published)).problems.map(p => p.what)};
    }""", [tree.day, [[leaf.member, leaf.salt.hex(), [str(v) for v in leaf.amounts]] for leaf in tree.leaves],
           levels, published])
    assert result["failed"] == [] and result["ok"] == 10_000
    assert result["changed"] == ["root", "total"]  # its hash and its sums both change
    assert result["total"] == ["total"]
    assert result["outsider"] == ["root"]
    assert opened.problems == []
