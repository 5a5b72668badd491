"""The proof of liabilities' tree (``service.liabilities``, docs/proof-of-liabilities.md), without a database: the
documented test vector; every member of a 10,000-member shop verifies; a changed balance, a leaf left out, a negative
amount (plain or wrapped round 2^64) and a changed total each fail; debts are never netted; the engine's snapshot
counts every money book a module declares; ``liandong verify-liabilities`` answers in one line with exit 0, 1 or 2."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from liandong.cli import app
from liandong.engine.core import MEMBER_BOOKS, Shop
from liandong.engine.events import CloseDay, Join, Pay, SetProduct
from liandong.engine.ledger import NON_CASH_UNITS
from liandong.engine.registry import REGISTRY, new_engine
from liandong.service.liabilities import (
    FIELDS,
    LIMIT,
    PAID_BOOKS,
    Leaf,
    LiabilityTree,
    MalformedProof,
    NegativeAmount,
    empty_root,
    fen_text,
    leaf_hash,
    member_amounts,
    node_hash,
    salt_for,
    snapshot,
    verify_proof,
)

DAY = "2026-03-01"
SECRET = b"liandong-test-vector"


def random_leaves(n: int, seed: int = 2026, day: str = DAY) -> list[Leaf]:
    rng = random.Random(seed)
    leaves = []
    for i in range(n):
        member = f"m{rng.getrandbits(40):010x}{i}"
        amounts = [rng.choice((0, 0, rng.randint(1, 10**7))) for _ in FIELDS[:-1]]
        debt = rng.choice((0, 0, 0, rng.randint(1, 10**5)))
        leaves.append(Leaf(member, salt_for(SECRET, day, member), (*amounts, debt)))
    return leaves


def test_the_documented_test_vector() -> None:
    """docs/proof-of-liabilities.md "Test vector": the salts, leaves, root and totals written there."""
    books = {"m1": {"available": 10000}, "m2": {"available": -2000, "pending": 500}, "m3": {"help_fund": 100}}
    points = {"m3": 1234}
    leaves = [Leaf(m, salt_for(SECRET, DAY, m), member_amounts(books[m], points.get(m, 0)))
              for m in ("m1", "m2", "m3")]
    assert leaves[1].amounts == (0, 500, 0, 0, 0, 0, 0, 2000)  # the debt apart: 5.00 owed, 20.00 owed to the shop
    assert salt_for(SECRET, DAY, "m1").hex() == "35f8ffebdab66fb86a58ad66bb1961746124e98a0eae3a38cf982cd8570b2836"
    assert leaf_hash(DAY, leaves[1].salt, "m2", leaves[1].amounts).hex() == \
        "6f00b53e03f77c6daf2680d1a7a8c098190a5087b57844f7311929e349ddbce7"
    tree = LiabilityTree.build(DAY, leaves)
    assert [leaf.member for leaf in tree.leaves] == ["m3", "m2", "m1"]  # by leaf hash
    assert tree.root.hex() == "cfa037e8a064c147e1e89c86039956b38c59334f38c3395f82c1932138a5b90e"
    assert tree.totals() == {"available": 10000, "pending": 500, "help_fund": 100, "withdrawing": 0,
                             "locked_fund": 0, "other": 0, "points": 1234, "debt": 2000, "owed": 11834,
                             "members": 3}
    proof = tree.proof("m2")
    assert [s["side"] for s in proof["path"]] == ["left", "right"]  # m1, the odd node, went up unchanged
    assert proof["total"]["owed"] == "118.34"
    docs = (Path(__file__).resolve().parent.parent / "docs" / "proof-of-liabilities.md").read_text()
    for figure in (tree.root.hex(), salt_for(SECRET, DAY, "m1").hex(), empty_root(DAY).hex(),
                   leaf_hash(DAY, leaves[1].salt, "m2", leaves[1].amounts).hex()):
        assert figure in docs


def test_every_member_of_a_10000_member_shop_verifies() -> None:
    leaves = random_leaves(10_000)
    tree = LiabilityTree.build(DAY, leaves)
    root, totals = tree.root.hex(), tree.totals()
    assert totals["members"] == 10_000
    assert totals["owed"] == sum(leaf.owed for leaf in leaves) and totals["debt"] == sum(x.debt for x in leaves)
    for leaf in leaves:
        proof = json.loads(json.dumps(tree.proof(leaf.member)))  # as downloaded
        verdict = verify_proof(proof, root, totals["owed"], 10_000)
        assert verdict.ok, (leaf.member, verdict.problems)
        assert verdict.leaf == dict(zip(FIELDS, leaf.amounts, strict=True))
        assert len(proof["path"]) <= 14


def test_trees_of_every_small_size_verify() -> None:
    """Odd nodes at every level: 1 to 40 leaves; and the empty tree's root."""
    for n in range(1, 41):
        tree = LiabilityTree.build(DAY, random_leaves(n, seed=n))
        for leaf in tree.leaves:
            assert verify_proof(tree.proof(leaf.member), tree.root.hex()).ok, n
    empty = LiabilityTree.build(DAY, [])
    assert empty.root == empty_root(DAY) and empty.totals()["owed"] == 0 and empty.members == 0


@pytest.fixture(scope="module")
def tree() -> LiabilityTree:
    return LiabilityTree.build(DAY, random_leaves(1000, seed=7))


def test_a_changed_balance_fails(tree: LiabilityTree) -> None:
    member = tree.leaves[123].member
    proof = tree.proof(member)
    for name in FIELDS:
        changed = copy.deepcopy(proof)
        value = int(changed["leaf"][name].replace(".", ""))
        changed["leaf"][name] = f"{(value + 1) // 100}.{(value + 1) % 100:02d}"
        verdict = verify_proof(changed, tree.root.hex())
        assert not verdict.ok and any("recomputes to the root" in p for p in verdict.problems), name
    # a sibling's sums lowered (a shop hiding part of other members' balances) changes the root too
    for step in range(len(proof["path"])):
        lowered = copy.deepcopy(proof)
        sums = lowered["path"][step]["sums"]
        name = max(FIELDS[:-1], key=lambda f: int(sums[f].replace(".", "")))
        fen = int(sums[name].replace(".", "")) - 1
        sums[name] = f"{fen // 100}.{fen % 100:02d}"
        assert not verify_proof(lowered, tree.root.hex()).ok, step


def test_a_leaf_left_out_fails(tree: LiabilityTree) -> None:
    """The shop publishes a tree without one member: that member's path does not reach the published root, and the
    shop has no path for it; everyone else's verifies against the smaller tree (which is why each member checks)."""
    left_out = tree.leaves[500]
    smaller = LiabilityTree.build(DAY, [leaf for leaf in tree.leaves if leaf.member != left_out.member])
    assert smaller.leaf_of(left_out.member) is None
    verdict = verify_proof(tree.proof(left_out.member), smaller.root.hex(), smaller.totals()["owed"],
                           smaller.members)
    assert not verdict.ok
    assert any("recomputes to the root" in p for p in verdict.problems)
    assert any("members" in p for p in verdict.problems)
    other = smaller.leaves[0].member
    assert verify_proof(smaller.proof(other), smaller.root.hex()).ok
    assert not verify_proof(smaller.proof(other), tree.root.hex()).ok


def test_a_negative_amount_in_the_tree_fails(tree: LiabilityTree) -> None:
    # the shop's own builder refuses a negative leaf: debts go in their own field
    with pytest.raises(NegativeAmount):
        LiabilityTree.build(DAY, [Leaf("m1", b"\0" * 32, (-100, 0, 0, 0, 0, 0, 0, 0))])
    # a forged path: an invented member with a negative balance beside a real one, its hash computed as if signed
    proof = tree.proof(tree.leaves[0].member)
    forged = copy.deepcopy(proof)
    forged["path"][0]["sums"]["available"] = "-500.00"
    verdict = verify_proof(forged, tree.root.hex())
    assert not verdict.ok and "negative" in verdict.problems[0]
    forged = copy.deepcopy(proof)
    forged["leaf"]["debt"] = "-1.00"
    assert "negative" in verify_proof(forged, tree.root.hex()).problems[0]
    # the same trick wrapped round 2^64 (-500.00 as the unsigned 2^64 - 50000, which a verifier adding modulo 2^64
    # would take for a debt hiding 500.00 of the real member's balance): the sum passes 2^64 and is refused
    real = max(tree.leaves, key=lambda leaf: leaf.amounts[0])
    assert real.amounts[0] >= 50_000
    proof = tree.proof(real.member)
    fake_sums = (LIMIT - 50_000, 0, 0, 0, 0, 0, 0, 0, 1)
    fake_hash = b"\x11" * 32
    real_sums = (*real.amounts, 1)
    me = leaf_hash(DAY, real.salt, real.member, real.amounts)
    root = node_hash(me, real_sums, fake_hash, fake_sums)
    wrapped = {**proof, "path": [{"side": "right", "hash": fake_hash.hex(),
                                  "sums": {**dict(zip(FIELDS, [f"{v // 100}.{v % 100:02d}" for v in fake_sums],
                                                      strict=False)), "members": 1}}],
               "root": root.hex()}
    verdict = verify_proof(wrapped, root.hex())
    assert not verdict.ok and "2^64" in verdict.problems[0]


def test_a_changed_total_fails(tree: LiabilityTree) -> None:
    member = tree.leaves[9].member
    proof = tree.proof(member)
    owed = tree.totals()["owed"]
    assert verify_proof(proof, tree.root.hex(), owed).ok
    verdict = verify_proof(proof, tree.root.hex(), owed - 1)
    assert not verdict.ok and "total owed" in verdict.problems[0]
    stated = copy.deepcopy(proof)
    stated["total"]["pending"] = "0.00"
    rest = owed - tree.totals()["pending"]
    stated["total"]["owed"] = f"{rest // 100}.{rest % 100:02d}"
    verdict = verify_proof(stated, tree.root.hex())
    assert not verdict.ok and "differs from the one stated" in verdict.problems[0]
    assert not verify_proof(proof, tree.root.hex(), members=tree.members + 1).ok
    with pytest.raises(MalformedProof):  # the file's own owed figure must be the sum of its fields
        verify_proof({**proof, "total": {**proof["total"], "owed": "0.01"}})


def test_a_debt_is_never_netted_against_what_is_owed() -> None:
    books = {"available": -3000, "pending": 5000, "help_fund": 700, "withdrawn": 99999, "cashback": -50,
             "locked_fund": 10}
    amounts = member_amounts(books, 1234)
    assert dict(zip(FIELDS, amounts, strict=True)) == {
        "available": 0, "pending": 5000, "help_fund": 700, "withdrawing": 0, "locked_fund": 10, "other": 0,
        "points": 1234, "debt": 3050}


def test_every_money_book_a_module_declares_is_owed_or_paid_out() -> None:
    """A module's own member money book (the test cashback plan's ``cashback``) is owed, in ``other``: a shop
    running a new module cannot hide what it keeps for members."""
    declared = set(MEMBER_BOOKS) | {b.name for cls in REGISTRY.modules() for b in cls.books}
    money = {book for book in declared if book not in NON_CASH_UNITS}
    assert "cashback" in money and "withdrawn" in PAID_BOOKS
    for book in money - set(PAID_BOOKS):
        amounts = dict(zip(FIELDS, member_amounts({book: 700}), strict=True))
        assert sum(amounts[f] for f in FIELDS[:-1]) == 700 and amounts["debt"] == 0, book
        assert amounts[book if book in FIELDS else "other"] == 700
    assert member_amounts({"coupons": 5, "withdrawn": 900}) == (0,) * len(FIELDS)  # not money, or paid out


def test_the_snapshot_of_an_engine_after_a_close() -> None:
    import datetime as dt

    start = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    engine = new_engine(Shop(products=[], plans={"chain21": {"skus": ["GIFT"]}, "points": {}}, start=start,
                             timezone="Asia/Shanghai"))
    at = start
    for event in (SetProduct(sku="GIFT", price=69900, gift_pack=True, at=at), Join(member="A", at=at),
                  Pay(member="A", sku="GIFT", order="o1", at=at), Join(member="B", referrer="A", at=at),
                  Pay(member="B", sku="GIFT", order="o2", at=at), CloseDay(day=start.date(), at=at)):
        outcome = engine.apply(event)
        assert outcome.refusal is None, outcome.refusal
    tree = snapshot(engine, DAY, SECRET)
    assert tree.members == 2
    points = engine.ask("points_value")
    for member in ("A", "B"):
        leaf = tree.leaf_of(member)
        assert leaf is not None
        assert leaf.amounts[FIELDS.index("points")] == points(engine, member) > 0
        assert fen_text(points(engine, member)) == engine.modules["points"].holding(engine, member)["value"]
        assert leaf.amounts[0] == max(engine.balance(member, "available"), 0)
    assert tree.totals()["owed"] > 0
    assert snapshot(engine, DAY, SECRET).root == tree.root  # deterministic
    assert snapshot(engine, DAY, b"another secret").root != tree.root


def run(*args: str) -> Any:
    return CliRunner().invoke(app, ["verify-liabilities", *args])


def test_verify_liabilities_on_the_command_line(tmp_path: Path, tree: LiabilityTree) -> None:
    member = tree.leaves[42].member
    proof = tree.proof(member)
    good = tmp_path / "liabilities.json"
    good.write_text(json.dumps(proof))
    owed = proof["total"]["owed"]
    result = run(str(good), "--root", tree.root.hex(), "--total", owed, "--members", str(tree.members))
    assert result.exit_code == 0, result.output
    assert result.output.count("\n") == 1 and member in result.output and owed in result.output
    assert run(str(good)).exit_code == 0  # against the root and total the file states
    result = run(str(good), "--total", "0.01")
    assert result.exit_code == 1 and "does not match" in result.output and result.output.count("\n") == 1
    assert run(str(good), "--root", "ab" * 32).exit_code == 1
    changed = copy.deepcopy(proof)
    changed["leaf"]["available"] = "999999.99"
    bad = tmp_path / "changed.json"
    bad.write_text(json.dumps(changed))
    assert run(str(bad), "--root", tree.root.hex()).exit_code == 1
    for name, content in (("garbage.json", "{not json"), ("list.json", "[1, 2]"), ("binary.json", b"\xff\xfe\x00"),
                          ("format.json", json.dumps({**proof, "format": "other"})),
                          ("salt.json", json.dumps({**proof, "salt": "xyz"})),
                          ("amount.json", json.dumps({**proof, "leaf": {**proof["leaf"], "points": 12.5}})),
                          ("deep.json", "[" * 100_000 + "]" * 100_000)):
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        result = run(str(path))
        assert result.exit_code == 2, (name, result.output)
        assert result.output.count("\n") == 1 and "Traceback" not in result.output, (name, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), (name, result.exception)
    assert run(str(tmp_path / "missing.json")).exit_code == 2
    assert run(str(good), "--total", "lots").exit_code == 2
    assert run(str(good), "--root", "nothex").exit_code == 2
