"""The fair draw (commit-reveal) and its public draw record.

The rule (rulebook "The fair draw"):

* At creation a campaign gets a 32-byte secret ``s`` (64 hex characters) and publishes
  ``commitment = sha256(s)`` (hex).  ``s`` is published when the draw is done.  The secret is an
  input of the creating event: the engine makes none (:func:`make_secret` is for the service and
  ``liandong replay``, which pass one in).
* ``stream(j) = int.from_bytes(HMAC-SHA256(key=s, msg=f"{campaign}|{','.join(entries)}|{j}"), "big")``
  where ``entries`` are the participants' entry ids in join order (a blind box uses its own id and no
  entries, so its message is ``"b1||0"``).  The message is encoded as UTF-8.
* Choosing k of n entries: Fisher-Yates on the entries in join order; for ``j`` in ``0..k-1``:
  ``r = stream(j) % (n - j)``, swap items ``j`` and ``j + r``; the winners are the first k items, in
  draw order.
* A random split of M fen among n people (double mean): for each person but the last, in join order,
  ``cap = floor(2 * M_left / n_left)``, share ``= 1 + stream(j) % (cap - 1)`` when ``cap > 1``, else 1;
  the last person gets what is left.  Needs ``M >= n``; every share is at least 1 fen.
* An equal split gives ``floor(M / n)`` each and the leftover fen one each to the earliest entries.
* A blind box's prize position is ``win_from + stream(0) % (win_to - win_from + 1)``.

Worked example (the rulebook's test vectors), with ``s = "00" * 31 + "01"``:

>>> s = "00" * 31 + "01"
>>> commitment(s)
'ec4916dd28fc4c10d78e287ca5d9cc51ee1ae73cbfde08c6b37324cbfaac8bc5'
>>> pick(s, "g1", ["e1", "e2", "e3", "e4", "e5"], 2)
['e1', 'e5']
>>> split_random(s, "r1", ["a", "b", "c"], 1000)
[661, 243, 96]
>>> split_equal(1000, 3)
[334, 333, 333]
>>> position(s, "b1", 7, 24)
10
>>> split_random(hashlib.sha256(b"liandong").hexdigest(), "r2", ["a", "b", "c", "d", "e"], 5)
[1, 1, 1, 1, 1]

Every closed draw leaves a :class:`DrawRecord`; its JSON form (``to_json``) is what
``liandong verify-draw FILE`` reads back and recomputes (:func:`verify_draw_file`).  A
``split_equal`` record may omit ``commitment`` and ``secret`` (an equal split needs no secret): it is
verified by recomputing the split; one that has them must still have ``sha256(secret) = commitment``::

    {"campaign": "g1", "operation": "pick", "k": 2,
     "entries": ["e1", "e2", "e3", "e4", "e5"],
     "commitment": "ec4916dd28fc4c10d78e287ca5d9cc51ee1ae73cbfde08c6b37324cbfaac8bc5",
     "secret": "0000000000000000000000000000000000000000000000000000000000000001",
     "result": ["e1", "e5"]}

Money is integer fen inside and a two-decimal string (``"10.00"``) in records; no float anywhere.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

__all__ = [
    "OPERATIONS",
    "DrawRecord",
    "MalformedDrawRecord",
    "Operation",
    "commitment",
    "draw_pick",
    "draw_position",
    "draw_split",
    "make_secret",
    "pick",
    "position",
    "split_equal",
    "split_random",
    "stream",
    "verify_draw_file",
    "verify_record",
]

Operation = Literal["pick", "split_random", "split_equal", "position"]
OPERATIONS: tuple[Operation, ...] = ("pick", "split_random", "split_equal", "position")

_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_MONEY = re.compile(r"(-?)(0|[1-9][0-9]*)\.([0-9]{2})")


# --------------------------------------------------------------------------- money helpers


def _fen_to_str(fen: int) -> str:
    """Format integer fen as a yuan string with exactly two decimals (``1050 -> "10.50"``)."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}{yuan}.{cents:02d}"


def _str_to_fen(text: str) -> int:
    """Parse a canonical two-decimal yuan string to fen (``"10.50" -> 1050``).

    Only the canonical form that :func:`_fen_to_str` writes is accepted (no ``"010.50"``, no ``"10.5"``,
    no ``"-0.00"``), so two amounts are equal exactly when their strings are equal.
    """
    match = _MONEY.fullmatch(text)
    if match is None or text == "-0.00":
        raise ValueError(f"not a two-decimal amount: {text!r}")
    sign, yuan, cents = match.groups()
    fen = int(yuan) * 100 + int(cents)
    return -fen if sign else fen


# --------------------------------------------------------------------------- the draw


def _secret_bytes(secret_hex: str) -> bytes:
    if not _HEX64.fullmatch(secret_hex):
        raise ValueError(f"a secret is 64 hex characters (32 bytes), got {secret_hex!r}")
    return bytes.fromhex(secret_hex)


def make_secret() -> str:
    """A fresh random 32-byte secret as 64 lowercase hex characters."""
    return secrets.token_hex(32)


def commitment(secret_hex: str) -> str:
    """``sha256`` of the 32 raw secret bytes, as lowercase hex."""
    return hashlib.sha256(_secret_bytes(secret_hex)).hexdigest()


def stream(secret_hex: str, campaign: str, entries: Sequence[str], j: int) -> int:
    """The j-th number of the draw: HMAC-SHA256(key=s, msg="campaign|e1,e2,...|j") as a big-endian int."""
    message = f"{campaign}|{','.join(entries)}|{j}".encode()
    digest = hmac.new(_secret_bytes(secret_hex), message, hashlib.sha256).digest()
    return int.from_bytes(digest, "big")


def pick(secret_hex: str, campaign: str, entries: Sequence[str], k: int) -> list[str]:
    """Choose k of the entries by Fisher-Yates; the winners in draw order."""
    n = len(entries)
    if not 0 <= k <= n:
        raise ValueError(f"cannot pick {k} of {n} entries")
    items = list(entries)
    for j in range(k):
        r = stream(secret_hex, campaign, entries, j) % (n - j)
        items[j], items[j + r] = items[j + r], items[j]
    return items[:k]


def _check_split(amount_fen: int, n: int) -> None:
    if n < 1:
        raise ValueError("a split needs at least one entry")
    if amount_fen < n:
        raise ValueError(f"cannot split {_fen_to_str(amount_fen)} among {n}: every share is at least 0.01")


def split_random(secret_hex: str, campaign: str, entries: Sequence[str], amount_fen: int) -> list[int]:
    """Double-mean random split of amount_fen among the entries; shares in entry order."""
    n = len(entries)
    _check_split(amount_fen, n)
    shares: list[int] = []
    left = amount_fen
    for j in range(n - 1):
        cap = 2 * left // (n - j)
        share = 1 + stream(secret_hex, campaign, entries, j) % (cap - 1) if cap > 1 else 1
        shares.append(share)
        left -= share
    shares.append(left)
    return shares


def split_equal(amount_fen: int, n: int) -> list[int]:
    """floor(M / n) each, the leftover fen one each to the earliest entries."""
    _check_split(amount_fen, n)
    base, extra = divmod(amount_fen, n)
    return [base + 1] * extra + [base] * (n - extra)


def position(secret_hex: str, campaign: str, win_from: int, win_to: int) -> int:
    """The blind-box prize position: ``win_from + stream(0) % (win_to - win_from + 1)``, no entries."""
    if win_from > win_to:
        raise ValueError(f"empty window {win_from}..{win_to}")
    return win_from + stream(secret_hex, campaign, [], 0) % (win_to - win_from + 1)


# --------------------------------------------------------------------------- the record


class MalformedDrawRecord(ValueError):
    """A draw record that is not shaped as the rulebook says; names the key and its value."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def _shown(value: object) -> str:
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def _bad(key: str, expected: str, value: object) -> MalformedDrawRecord:
    return MalformedDrawRecord(key, f"key {key!r}: expected {expected}, got {_shown(value)}")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_str_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _is_money(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        _str_to_fen(value)
    except ValueError:
        return False
    return True


_PARAM: dict[str, str] = {
    "pick": "k",
    "split_random": "amount",
    "split_equal": "amount",
    "position": "window",
}


@dataclass(frozen=True)
class DrawRecord:
    """One closed draw, as published; see the module docstring for its JSON form.

    ``result`` is the winners (pick), the shares as two-decimal strings in entry order (splits) or the
    box number (position).  Exactly the operation's parameter is set: ``k`` (pick), ``amount``
    (two-decimal string, splits) or ``window`` (position).  ``secret`` and ``commitment`` may be
    ``None`` only for ``split_equal``, which needs no randomness.
    """

    campaign: str
    operation: Operation
    commitment: str | None
    secret: str | None
    entries: list[str]
    result: list[str] | int
    k: int | None = None
    amount: str | None = None
    window: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        self._validate()

    def _validate(self) -> None:
        op = self.operation
        if op not in OPERATIONS:
            raise _bad("operation", "one of " + ", ".join(OPERATIONS), op)
        if not isinstance(self.campaign, str):
            raise _bad("campaign", "a string", self.campaign)
        if not _is_str_list(self.entries):
            raise _bad("entries", "a list of strings", self.entries)
        for key, value in (("commitment", self.commitment), ("secret", self.secret)):
            if value is None:
                if op != "split_equal":
                    raise _bad(key, f"64 hex characters (only split_equal may leave it null) for {op}", value)
            elif not isinstance(value, str) or not _HEX64.fullmatch(value):
                raise _bad(key, "64 hex characters", value)
        wanted = _PARAM[op]
        params: tuple[tuple[str, object], ...] = (
            ("k", self.k),
            ("amount", self.amount),
            ("window", self.window),
        )
        for key, param in params:
            if key != wanted and param is not None:
                raise MalformedDrawRecord(key, f"key {key!r} does not belong to a {op} record")
        if op == "pick":
            if not _is_int(self.k):
                raise _bad("k", "an integer", self.k)
            if not _is_str_list(self.result):
                raise _bad("result", "a list of entry ids", self.result)
        elif op in ("split_random", "split_equal"):
            if not _is_money(self.amount):
                raise _bad("amount", 'a two-decimal string such as "10.00"', self.amount)
            if not isinstance(self.result, list) or not all(_is_money(v) for v in self.result):
                raise _bad("result", "a list of two-decimal strings", self.result)
        else:
            window = self.window
            if not (isinstance(window, tuple) and len(window) == 2 and all(_is_int(v) for v in window)):
                shown = list(window) if isinstance(window, tuple) else window
                raise _bad("window", "two integers [from, to]", shown)
            if self.entries:
                raise _bad("entries", "no entries for a position draw", self.entries)
            if not _is_int(self.result):
                raise _bad("result", "an integer box number", self.result)

    def to_json(self) -> dict[str, Any]:
        """The record's JSON object, keys in the rulebook's order."""
        obj: dict[str, Any] = {"campaign": self.campaign, "operation": self.operation}
        if self.operation == "pick":
            obj["k"] = self.k
        elif self.operation == "position":
            assert self.window is not None
            obj["window"] = [self.window[0], self.window[1]]
        else:
            obj["amount"] = self.amount
        obj["entries"] = list(self.entries)
        obj["commitment"] = self.commitment
        obj["secret"] = self.secret
        obj["result"] = list(self.result) if isinstance(self.result, list) else self.result
        return obj

    @classmethod
    def from_json(cls, obj: object) -> DrawRecord:
        """Read a record back from its JSON object; :class:`MalformedDrawRecord` names a bad key."""
        if not isinstance(obj, dict):
            raise MalformedDrawRecord("", f"a draw record is a JSON object, got {_shown(obj)}")
        data = cast("dict[str, object]", obj)
        if "operation" not in data:
            raise _missing("operation")
        operation = data["operation"]
        if operation not in OPERATIONS:
            raise _bad("operation", "one of " + ", ".join(OPERATIONS), operation)
        op: Operation = operation
        param = _PARAM[op]
        allowed = {"campaign", "operation", param, "entries", "commitment", "secret", "result"}
        for key in data:
            if key not in allowed:
                raise MalformedDrawRecord(key, f"key {key!r} does not belong to a {op} record")
        required = ["campaign", param, "result"]
        if op != "split_equal":  # an equal split needs no secret: its record may omit both
            required[2:2] = ["commitment", "secret"]
        if op != "position":
            required.insert(2, "entries")
        for key in required:
            if key not in data:
                raise _missing(key)
        campaign = data["campaign"]
        if not isinstance(campaign, str):
            raise _bad("campaign", "a string", campaign)
        entries = data.get("entries", [])
        if not _is_str_list(entries):
            raise _bad("entries", "a list of strings", entries)
        k: int | None = None
        amount: str | None = None
        window: tuple[int, int] | None = None
        if op == "pick":
            if not _is_int(data["k"]):
                raise _bad("k", "an integer", data["k"])
            k = cast("int", data["k"])
        elif op == "position":
            raw = data["window"]
            if not (isinstance(raw, list) and len(raw) == 2 and all(_is_int(v) for v in raw)):
                raise _bad("window", "two integers [from, to]", raw)
            window = (cast("int", raw[0]), cast("int", raw[1]))
        else:
            if not _is_money(data["amount"]):
                raise _bad("amount", 'a two-decimal string such as "10.00"', data["amount"])
            amount = cast("str", data["amount"])
        return cls(
            campaign=campaign,
            operation=op,
            commitment=cast("str | None", data.get("commitment")),
            secret=cast("str | None", data.get("secret")),
            entries=list(cast("list[str]", entries)),
            result=cast("list[str] | int", data["result"]),
            k=k,
            amount=amount,
            window=window,
        )


def _missing(key: str) -> MalformedDrawRecord:
    return MalformedDrawRecord(key, f"missing key {key!r}")


# --------------------------------------------------------------------------- making records


def draw_pick(secret_hex: str, campaign: str, entries: Sequence[str], k: int) -> DrawRecord:
    """Pick k winners and record the draw."""
    winners = pick(secret_hex, campaign, entries, k)
    return DrawRecord(
        campaign=campaign,
        operation="pick",
        commitment=commitment(secret_hex),
        secret=secret_hex.lower(),
        entries=list(entries),
        result=winners,
        k=k,
    )


def draw_split(
    secret_hex: str | None,
    campaign: str,
    entries: Sequence[str],
    amount_fen: int,
    split: Literal["random", "equal"] = "random",
) -> DrawRecord:
    """Split amount_fen among the entries (random or equal) and record the draw.

    An equal split needs no secret; when one is given (the campaign's), it is recorded with its
    commitment all the same.
    """
    if split == "random":
        if secret_hex is None:
            raise ValueError("a random split needs a secret")
        shares = split_random(secret_hex, campaign, entries, amount_fen)
    elif split == "equal":
        shares = split_equal(amount_fen, len(entries))
    else:
        raise ValueError(f"split is 'random' or 'equal', got {split!r}")
    return DrawRecord(
        campaign=campaign,
        operation="split_random" if split == "random" else "split_equal",
        commitment=None if secret_hex is None else commitment(secret_hex),
        secret=None if secret_hex is None else secret_hex.lower(),
        entries=list(entries),
        result=[_fen_to_str(share) for share in shares],
        amount=_fen_to_str(amount_fen),
    )


def draw_position(secret_hex: str, campaign: str, win_from: int, win_to: int) -> DrawRecord:
    """Draw the blind box's prize position in win_from..win_to and record it."""
    box = position(secret_hex, campaign, win_from, win_to)
    return DrawRecord(
        campaign=campaign,
        operation="position",
        commitment=commitment(secret_hex),
        secret=secret_hex.lower(),
        entries=[],
        result=box,
        window=(win_from, win_to),
    )


# --------------------------------------------------------------------------- verifying


def _recompute(record: DrawRecord) -> list[str] | int:
    """The result the record's own data gives; ValueError (naming the key) when it cannot give one."""
    op = record.operation
    n = len(record.entries)
    if op == "pick":
        assert record.secret is not None
        assert record.k is not None
        if not 0 <= record.k <= n:
            raise ValueError(f"k: cannot pick {record.k} of {n} entries")
        return pick(record.secret, record.campaign, record.entries, record.k)
    if op == "position":
        assert record.secret is not None
        assert record.window is not None
        win_from, win_to = record.window
        if win_from > win_to:
            raise ValueError(f"window: [{win_from}, {win_to}] is empty")
        return position(record.secret, record.campaign, win_from, win_to)
    assert record.amount is not None
    amount_fen = _str_to_fen(record.amount)
    if n < 1:
        raise ValueError("entries: a split needs at least one entry")
    if amount_fen < n:
        raise ValueError(f"amount: {record.amount} is less than 0.01 for each of the {n} entries")
    if op == "split_random":
        assert record.secret is not None
        shares = split_random(record.secret, record.campaign, record.entries, amount_fen)
    else:
        shares = split_equal(amount_fen, n)
    return [_fen_to_str(share) for share in shares]


def verify_record(record: DrawRecord) -> list[str]:
    """Recompute a record: [] when sha256(secret) is the commitment and the result recomputes.

    Otherwise one human-readable line per difference, e.g.
    ``"result: recomputed ['e1', 'e5'] but the record says ['e2', 'e5']"``.
    """
    problems: list[str] = []
    if record.secret is not None:
        actual = commitment(record.secret)
        if record.commitment is None:
            problems.append(f"commitment: sha256(secret) is {actual} but the record has no commitment")
        elif actual != record.commitment.lower():
            problems.append(f"commitment: sha256(secret) is {actual} but the record says {record.commitment}")
    elif record.commitment is not None:
        problems.append("secret: the record has a commitment but no secret to check it against")
    try:
        expected = _recompute(record)
    except ValueError as exc:
        problems.append(f"{exc}; the result cannot be recomputed")
    else:
        if expected != record.result:
            problems.append(f"result: recomputed {expected!r} but the record says {record.result!r}")
    return problems


def verify_draw_file(path: str | Path) -> tuple[int, str]:
    """Verify a JSON file holding one draw record or a list of them.

    Returns ``(0, "N records verified")`` when every record matches, ``(1, message)`` naming the first
    record that does not (its index and campaign) and what differs, ``(2, message)`` naming the file
    and the malformed key when the file is not a draw-record file.  The output of
    ``liandong replay --json`` (an object whose ``draws`` key is the list) is accepted too.
    """
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return 2, f"{name}: cannot read the file: {exc}"
    try:
        data: object = json.loads(text)
    except json.JSONDecodeError as exc:
        return 2, f"{name}: not valid JSON: {exc}"
    if isinstance(data, dict) and "draws" in data and "operation" not in data:
        data = data["draws"]
        if not isinstance(data, list):
            return 2, f"{name}: malformed: key 'draws': expected a list of draw records"
    items = data if isinstance(data, list) else [data]
    records: list[DrawRecord] = []
    for index, item in enumerate(items):
        try:
            records.append(DrawRecord.from_json(item))
        except MalformedDrawRecord as exc:
            where = f"record {index}: " if isinstance(data, list) else ""
            return 2, f"{name}: malformed draw record: {where}{exc}"
    for index, record in enumerate(records):
        problems = verify_record(record)
        if problems:
            return 1, (
                f"{name}: record {index} (campaign {record.campaign!r}, {record.operation}) does not match: "
                + "; ".join(problems)
            )
    count = len(records)
    return 0, f"{count} record{'' if count == 1 else 's'} verified"
