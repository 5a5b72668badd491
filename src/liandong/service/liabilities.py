"""Proof of liabilities: a Merkle sum tree over what the shop owes every member at a day's close.

Pure and deterministic (no Django, no clock): the worker builds the tree from the engine at each ``close_day``
(``snapshot`` then ``LiabilityTree.build``), the page serves a member its path (``LiabilityTree.proof``), and
``liandong verify-liabilities PATH.json`` (``verify_proof_file``) checks a path offline. The exact format, with a
test vector, is in ``docs/proof-of-liabilities.md``; ``static/liandong/liabilities-verify.js`` is the same check in
the browser.

A leaf is one member: its amounts in integer fen, every one of them non-negative::

    available pending help_fund withdrawing locked_fund other points | debt

The first seven are what the shop owes the member (``other``: any money book a module adds; ``points`` at the
close's NAV, floored to the fen); a balance
below zero (a debt that later income repays) is never netted against them: it is ``debt``, a field of its own.
Each node carries the per-field sums of its leaves and how many leaves it holds (``members``), and its hash
commits to both children's hashes and sums; verification recomputes every sum, refuses any negative one, and
compares the root's hash and sums with the published root and total.

Example: two members, A with 100.00 available and B owing 20.00 (available -20.00) and 5.00 pending: A's leaf has
``available 10000``, B's ``pending 500, debt 2000``; the root's sums are ``available 10000, pending 500, debt 2000,
members 2``, and the shop publishes that it owes 105.00 (not 85.00).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..engine.ledger import NON_CASH_UNITS

if TYPE_CHECKING:
    from ..engine.core import Engine

FORMAT = "liandong-liabilities/1"
#: A leaf's amounts, in this order in every hash.
FIELDS = ("available", "pending", "help_fund", "withdrawing", "locked_fund", "other", "points", "debt")
#: The fields the shop owes; their sum is the published total.
OWED = FIELDS[:-1]
#: Any other money book a module keeps for members (a cashback balance) is owed in this field.
OTHER = "other"
#: The members' points, valued at the NAV (their book is in points, not fen).
POINTS_FIELD = "points"
#: Member money books that are not owed: money already paid out.
PAID_BOOKS = ("withdrawn",)
#: The capability (``Engine.ask``) that values a member's points at the NAV, in fen.
POINTS_VALUE = "points_value"

LEAF_TAG = b"liandong-liabilities/1 leaf\x00"
NODE_TAG = b"liandong-liabilities/1 node\x00"
EMPTY_TAG = b"liandong-liabilities/1 empty\x00"
SALT_TAG = "liandong-liabilities/1 salt|"
#: Every amount and every sum is an unsigned 64-bit integer in the hashes.
LIMIT = 1 << 64
_U64S = struct.Struct(">" + "Q" * (len(FIELDS) + 1))  # the fields' sums and the member count
_U64F = struct.Struct(">" + "Q" * len(FIELDS))
_AMOUNT = re.compile(r"(-?)(0|[1-9][0-9]{0,19})\.([0-9]{2})", re.ASCII)
_HEX64 = re.compile(r"[0-9a-f]{64}", re.ASCII)
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)

#: Per-field sums and the member count, in ``FIELDS`` order then ``members``.
Sums = tuple[int, ...]


class MalformedProof(ValueError):
    """A path file that is not one: ``key`` names what is wrong."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        super().__init__(f"{key}: {message}")


class NegativeAmount(ValueError):
    """An amount or a sum below zero: never in a tree (it would hide liabilities)."""


# --- the hashes ------------------------------------------------------------------------------------------------------


def _text(value: str) -> bytes:
    data = value.encode("utf-8")
    return struct.pack(">I", len(data)) + data


def salt_for(secret: bytes, day: str, member: str) -> bytes:
    """The member's salt for the day: ``HMAC-SHA256(secret, "liandong-liabilities/1 salt|<day>|<member>")``."""
    return hmac.new(secret, f"{SALT_TAG}{day}|{member}".encode(), hashlib.sha256).digest()


def _check(values: Sequence[int], what: str) -> None:
    for value in values:
        if value < 0:
            raise NegativeAmount(f"{what} has a negative amount ({value} fen)")
        if value >= LIMIT:
            raise NegativeAmount(f"{what} has an amount of 2^64 fen or more")


def leaf_hash(day: str, salt: bytes, member: str, amounts: Sequence[int]) -> bytes:
    """``SHA-256(LEAF_TAG ‖ text(day) ‖ salt ‖ text(member) ‖ u64 × 8)``; ``text`` is a u32 length and UTF-8."""
    _check(amounts, f"the leaf of {member}")
    return hashlib.sha256(LEAF_TAG + _text(day) + salt + _text(member) + _U64F.pack(*amounts)).digest()


def node_hash(left: bytes, left_sums: Sums, right: bytes, right_sums: Sums) -> bytes:
    """``SHA-256(NODE_TAG ‖ left hash ‖ u64 × 9 left sums ‖ right hash ‖ u64 × 9 right sums)``."""
    return hashlib.sha256(NODE_TAG + left + _U64S.pack(*left_sums) + right + _U64S.pack(*right_sums)).digest()


def empty_root(day: str) -> bytes:
    """The root of a day with no member: ``SHA-256(EMPTY_TAG ‖ text(day))``."""
    return hashlib.sha256(EMPTY_TAG + _text(day)).digest()


def add(a: Sums, b: Sums) -> Sums:
    return tuple(x + y for x, y in zip(a, b, strict=True))


# --- the tree --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Leaf:
    """One member's leaf: its salt (32 bytes) and its amounts in fen, in ``FIELDS`` order."""

    member: str
    salt: bytes
    amounts: tuple[int, ...]

    @property
    def owed(self) -> int:
        return sum(self.amounts[: len(OWED)])

    @property
    def debt(self) -> int:
        return self.amounts[-1]


@dataclass(frozen=True, slots=True)
class Step:
    """One step up a path: the sibling's hash and sums, and on which side it is."""

    side: str  # "left" or "right": where the sibling is
    hash: bytes
    sums: Sums


class LiabilityTree:
    """The day's tree: leaves sorted by their hash; each level pairs nodes left to right, and a level's odd last
    node goes up unchanged (never paired with itself: that would count its sums twice)."""

    def __init__(self, day: str, leaves: Sequence[Leaf], levels: list[list[tuple[bytes, Sums]]]) -> None:
        self.day, self.leaves, self.levels = day, leaves, levels
        self._index = {leaf.member: i for i, leaf in enumerate(leaves)}

    @classmethod
    def build(cls, day: str, leaves: Iterable[Leaf]) -> LiabilityTree:
        hashed = [(leaf_hash(day, leaf.salt, leaf.member, leaf.amounts), leaf) for leaf in leaves]
        hashed.sort(key=lambda item: (item[0], item[1].member))
        if len({leaf.member for _h, leaf in hashed}) != len(hashed):
            raise ValueError("a member has two leaves")
        level = [(h, (*leaf.amounts, 1)) for h, leaf in hashed]
        levels = [level]
        while len(level) > 1:
            up = []
            for i in range(0, len(level) - 1, 2):
                (lh, ls), (rh, rs) = level[i], level[i + 1]
                sums = add(ls, rs)
                _check(sums, "a node")
                up.append((node_hash(lh, ls, rh, rs), sums))
            if len(level) % 2:
                up.append(level[-1])
            level = up
            levels.append(level)
        return cls(day, [leaf for _h, leaf in hashed], levels)

    @property
    def root(self) -> bytes:
        return self.levels[-1][0][0] if self.levels[0] else empty_root(self.day)

    @property
    def sums(self) -> Sums:
        return self.levels[-1][0][1] if self.levels[0] else (0,) * (len(FIELDS) + 1)

    @property
    def members(self) -> int:
        return len(self.leaves)

    def totals(self) -> dict[str, int]:
        """The root's sums by field, ``owed`` (what the shop owes: the sum of ``OWED``) and ``members``."""
        sums = self.sums
        out = dict(zip(FIELDS, sums, strict=False))
        out["owed"] = sum(sums[: len(OWED)])
        out["members"] = sums[-1]
        return out

    def leaf_of(self, member: str) -> Leaf | None:
        index = self._index.get(member)
        return None if index is None else self.leaves[index]

    def path(self, member: str) -> list[Step]:
        """The siblings from the member's leaf up to the root (a level where its node goes up alone has none)."""
        index = self._index[member]
        steps = []
        for level in self.levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                h, sums = level[sibling]
                steps.append(Step("left" if sibling < index else "right", h, sums))
            index //= 2
        return steps

    def proof(self, member: str) -> dict[str, Any]:
        """The member's inclusion path, as the page offers it for download and ``verify-liabilities`` reads it."""
        leaf = self.leaves[self._index[member]]
        return {
            "format": FORMAT, "day": self.day, "member": member, "salt": leaf.salt.hex(),
            "leaf": amounts_json(leaf.amounts),
            "path": [{"side": s.side, "hash": s.hash.hex(), "sums": sums_json(s.sums)} for s in self.path(member)],
            "root": self.root.hex(), "total": totals_json(self.sums),
        }


def fen_text(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def amounts_json(amounts: Sequence[int]) -> dict[str, str]:
    return {name: fen_text(v) for name, v in zip(FIELDS, amounts, strict=False)}


def sums_json(sums: Sums) -> dict[str, Any]:
    out: dict[str, Any] = amounts_json(sums)
    out["members"] = sums[-1]
    return out


def totals_json(sums: Sums) -> dict[str, Any]:
    out = sums_json(sums)
    out["owed"] = fen_text(sum(sums[: len(OWED)]))
    return out


# --- from the engine -------------------------------------------------------------------------------------------------


def member_amounts(books: Mapping[str, int], points_value: int = 0) -> tuple[int, ...]:
    """A member's leaf amounts from its balances by book (money books; ``NON_CASH_UNITS`` and ``PAID_BOOKS`` are
    left out): each book's positive balance in its field (a module's own money book in ``other``), its points'
    value at the NAV, and every negative balance added to ``debt`` (never netted)."""
    owed = dict.fromkeys(OWED, 0)
    debt = 0
    held = [(OTHER if book in (POINTS_FIELD, OTHER) or book not in owed else book, balance)
            for book, balance in books.items() if book not in PAID_BOOKS and book not in NON_CASH_UNITS]
    for name, balance in [*held, (POINTS_FIELD, points_value)]:
        if balance > 0:
            owed[name] += balance
        else:
            debt -= balance
    return (*owed.values(), debt)


def snapshot(engine: Engine, day: str, secret: bytes) -> LiabilityTree:
    """The tree of what the shop owes every member of ``engine`` now (right after the close of ``day``)."""
    ask = engine.ask(POINTS_VALUE)
    books: dict[str, dict[str, int]] = {member: {} for member in engine.members}
    for (owner, book), balance in engine.ledger.balances.items():
        held = books.get(owner)
        if held is not None and book not in NON_CASH_UNITS:
            held[book] = balance
    leaves = [Leaf(member, salt_for(secret, day, member),
                   member_amounts(held, int(ask(engine, member)) if ask is not None else 0))
              for member, held in books.items()]
    return LiabilityTree.build(day, leaves)


# --- verifying a path ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Verdict:
    """What checking a path found: ``problems`` is empty when it holds."""

    day: str
    member: str
    root: str  # the root the path recomputes to
    totals: dict[str, int]  # its sums by field, owed and members
    leaf: dict[str, int]
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def parse_amount(value: Any, key: str) -> int:
    """A two-decimal string ("12.30") to fen; a negative one is returned as it is (the check refuses it)."""
    m = _AMOUNT.fullmatch(value) if isinstance(value, str) else None
    if m is None or value == "-0.00":
        raise MalformedProof(key, f"expected an amount with two decimals such as \"12.30\", got {_short(value)}")
    fen = int(m.group(2)) * 100 + int(m.group(3))
    return -fen if m.group(1) else fen


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, bytes) else repr(value)
    return text if len(text) <= 60 else text[:60] + "…"


def _mapping(value: Any, key: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MalformedProof(key, f"expected an object, got {_short(value)}")
    return value


def _hex(value: Any, key: str) -> bytes:
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise MalformedProof(key, f"expected 64 lowercase hex digits, got {_short(value)}")
    return bytes.fromhex(value)


def _fields(value: Any, key: str, *, members: bool) -> tuple[int, ...]:
    data = _mapping(value, key)
    out = [parse_amount(data.get(name), f"{key}.{name}") for name in FIELDS]
    if members:
        count = data.get("members")
        if not isinstance(count, int) or isinstance(count, bool):
            raise MalformedProof(f"{key}.members", f"expected a whole number, got {_short(count)}")
        out.append(count)
    return tuple(out)


def parse_total(text: str) -> int:
    """``--total``: the published total owed, "1234.56"."""
    fen = parse_amount(text.strip(), "total")
    if fen < 0:
        raise MalformedProof("total", f"a total owed cannot be negative, got {text}")
    return fen


def verify_proof(data: Any, root: str | None = None, owed: int | None = None,
                 members: int | None = None) -> Verdict:
    """Check a member's path: recompute its leaf's hash, every node up to the root with its sums (each one
    non-negative and under 2^64), and compare the root and the total with ``root``/``owed``/``members`` when given
    (the published figures), else with the ``root`` and ``total`` the file itself states. Raises
    ``MalformedProof`` for a file that is not a path."""
    proof = _mapping(data, "file")
    if proof.get("format") != FORMAT:
        raise MalformedProof("format", f"expected {FORMAT!r}, got {_short(proof.get('format'))}")
    day = proof.get("day")
    if not isinstance(day, str) or not _DAY.fullmatch(day):
        raise MalformedProof("day", f"expected a day such as 2026-03-01, got {_short(day)}")
    member = proof.get("member")
    if not isinstance(member, str) or not member:
        raise MalformedProof("member", f"expected the member's id, got {_short(member)}")
    salt = _hex(proof.get("salt"), "salt")
    amounts = _fields(proof.get("leaf"), "leaf", members=False)
    steps = proof.get("path")
    if not isinstance(steps, list):
        raise MalformedProof("path", f"expected a list of steps, got {_short(steps)}")
    parsed = []
    for i, step in enumerate(steps):
        s = _mapping(step, f"path[{i}]")
        side = s.get("side")
        if side not in ("left", "right"):
            raise MalformedProof(f"path[{i}].side", f"expected \"left\" or \"right\", got {_short(side)}")
        parsed.append((side, _hex(s.get("hash"), f"path[{i}].hash"), _fields(s.get("sums"), f"path[{i}].sums",
                                                                            members=True)))
    stated_root = _hex(proof.get("root"), "root").hex() if root is None else root.strip().lower()
    if root is not None and not _HEX64.fullmatch(stated_root):
        raise MalformedProof("root", f"expected 64 hex digits, got {_short(root)}")
    stated = _fields(proof.get("total"), "total", members=True)
    stated_owed = sum(stated[: len(OWED)])
    if "owed" in _mapping(proof.get("total"), "total"):
        file_owed = parse_amount(proof["total"]["owed"], "total.owed")
        if file_owed != stated_owed:
            raise MalformedProof("total.owed", f"is {fen_text(file_owed)}, but its fields add up to "
                                               f"{fen_text(stated_owed)}")

    problems: list[str] = []
    leaf = dict(zip(FIELDS, amounts, strict=True))
    negative = [f"{name} {fen_text(v)}" for name, v in leaf.items() if v < 0]
    if negative:
        problems.append(f"the leaf has a negative amount: {', '.join(negative)}")
    for i, (_side, _h, sums) in enumerate(parsed):
        bad = [f"{name} {fen_text(v)}" for name, v in zip((*FIELDS, "members"), sums, strict=True) if v < 0]
        if sums[-1] < 1:
            bad.append(f"members {sums[-1]}")
        if bad:
            problems.append(f"step {i + 1} of the path has a negative sum: {', '.join(bad)}")
    if problems:
        return Verdict(day, member, "", {}, leaf, problems)
    try:
        current, sums = leaf_hash(day, salt, member, amounts), (*amounts, 1)
        for side, sibling, sibling_sums in parsed:
            if side == "left":
                current, sums = node_hash(sibling, sibling_sums, current, sums), add(sibling_sums, sums)
            else:
                current, sums = node_hash(current, sums, sibling, sibling_sums), add(sums, sibling_sums)
            _check(sums, "a node")
    except (NegativeAmount, struct.error) as exc:
        return Verdict(day, member, "", {}, leaf, [f"the path cannot be a tree's: {exc}"])
    totals = dict(zip(FIELDS, sums, strict=False))
    totals["owed"] = sum(sums[: len(OWED)])
    totals["members"] = sums[-1]
    if current.hex() != stated_root:
        problems.append(f"the path recomputes to the root {current.hex()}, not {stated_root}")
    if owed is not None:
        if totals["owed"] != owed:
            problems.append(f"the path's total owed is {fen_text(totals['owed'])}, not {fen_text(owed)}")
    else:
        differ = [f"{name} {fen_text(v)} (stated {fen_text(s)})" for name, v, s in
                  zip(FIELDS, sums, stated, strict=False) if v != s]
        if differ:
            problems.append(f"the path's total differs from the one stated: {', '.join(differ)}")
        if stated[-1] != sums[-1] and members is None:
            problems.append(f"the path counts {sums[-1]} members, the total states {stated[-1]}")
    if members is not None and sums[-1] != members:
        problems.append(f"the path counts {sums[-1]} members, not {members}")
    return Verdict(day, member, current.hex(), totals, leaf, problems)


def verify_proof_file(path: str | Path, root: str | None = None, total: str | None = None,
                      members: int | None = None) -> tuple[int, str]:
    """``liandong verify-liabilities``: (0, what holds), (1, what differs) or (2, why the input is not usable)."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return 2, f"{name}: cannot read the file: {exc}"
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        return 2, f"{name}: not valid JSON: {exc}"
    try:
        owed = parse_total(total) if total is not None else None
        if members is not None and members < 0:
            raise MalformedProof("members", f"cannot be negative, got {members}")
        verdict = verify_proof(data, root, owed, members)
    except MalformedProof as exc:
        return 2, f"{name}: malformed: {exc}"
    if not verdict.ok:
        return 1, f"{name}: does not match: " + "; ".join(verdict.problems)
    leaf = verdict.leaf
    owed_by_member = sum(leaf[f] for f in OWED)
    return 0, (f"{verdict.day}: {verdict.member} is in the tree with {fen_text(owed_by_member)} owed and "
               f"{fen_text(leaf['debt'])} debt; root {verdict.root}, total owed {fen_text(verdict.totals['owed'])} "
               f"to {verdict.totals['members']} members")
