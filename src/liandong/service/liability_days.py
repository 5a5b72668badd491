"""The proof of liabilities in the store: the worker's part (a tree at each day's close, written with the batch) and
the page's (the published days, a day's tree rebuilt from its leaves to serve a member its path).

At each applied ``close_day`` the worker takes ``service.liabilities.snapshot`` of the engine right after the close
(before any later event of the batch) and commits, in the batch's own transaction, one ``LiabilityDay`` (the root
and its sums) and one ``LiabilityLeaf`` per member (salt and amounts). A crash before the commit loses nothing: the
replayed close takes the same snapshot (same balances, same salts from the same secret, so the same root). A day
closed again keeps its first proof.

The salts' key is ``settings.LIABILITIES_SECRET`` (``LIANDONG_LIABILITIES_SECRET``); without it, a key derived from
the Django secret key. Set it in the worker's environment too, and keep it: the salts of past days are stored, but a
day rebuilt with another key would give another root.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper

from ..engine.core import Engine
from .bulk import insert_rows
from .liabilities import FIELDS, Leaf, LiabilityTree, snapshot
from .store.models import LiabilityDay, LiabilityLeaf

DAY_COLUMNS = ("day", "root", "members", *FIELDS, "position", "closed_at")
LEAF_COLUMNS = ("day", "member", "salt", *FIELDS)


def liabilities_secret() -> bytes:
    """The HMAC key of the members' salts."""
    configured = str(getattr(settings, "LIABILITIES_SECRET", "") or "")
    if configured:
        return configured.encode()
    return hmac.new(str(settings.SECRET_KEY).encode(), b"liandong-liabilities salt key", hashlib.sha256).digest()


@dataclass(slots=True)
class DayProof:
    """A day's tree as the worker built it at the close (event ``position``, instant ``closed_at``)."""

    day: dt.date
    position: int
    closed_at: dt.datetime
    tree: LiabilityTree

    def day_row(self) -> tuple[Any, ...]:
        sums = self.tree.sums
        return (self.day, self.tree.root.hex(), self.tree.members, *sums[: len(FIELDS)], self.position,
                self.closed_at)

    def leaf_rows(self) -> list[tuple[Any, ...]]:
        return [(self.day, leaf.member, leaf.salt.hex(), *leaf.amounts) for leaf in self.tree.leaves]


def day_proof(engine: Engine, day: dt.date, position: int, secret: bytes) -> DayProof:
    """The proof of ``day``, from the engine right after its close."""
    return DayProof(day, position, engine.end_of_day(day), snapshot(engine, day.isoformat(), secret))


def write_day_proofs(connection: BaseDatabaseWrapper, proofs: Sequence[DayProof], using: str) -> None:
    """Inside the batch's transaction: each day's root and leaves, unless the day has its proof already."""
    if not proofs:
        return
    have = set(LiabilityDay.objects.using(using).filter(day__in=[p.day for p in proofs])
               .values_list("day", flat=True))
    for proof in proofs:
        if proof.day in have:
            continue
        have.add(proof.day)
        insert_rows(connection, "store_liabilityday", DAY_COLUMNS, [proof.day_row()])
        rows = proof.leaf_rows()
        if rows:
            insert_rows(connection, "store_liabilityleaf", LEAF_COLUMNS, rows)


# --- reading (the page) ----------------------------------------------------------------------------------------------

_cache_lock = threading.Lock()
_trees: OrderedDict[tuple[str, dt.date, str], LiabilityTree] = OrderedDict()
CACHED_TREES = 4


def day_tree(day: LiabilityDay) -> LiabilityTree:
    """The day's tree rebuilt from its stored leaves (about 0.1 s for 10,000 members; the last few are cached)."""
    key = (str(settings.DATABASES["default"]["NAME"]), day.day, day.root)
    with _cache_lock:
        tree = _trees.get(key)
        if tree is not None:
            _trees.move_to_end(key)
            return tree
    rows = LiabilityLeaf.objects.filter(day=day.day).values_list("member", "salt", *FIELDS)
    tree = LiabilityTree.build(day.day.isoformat(),
                               [Leaf(member, bytes.fromhex(salt), tuple(amounts))
                                for member, salt, *amounts in rows.iterator(chunk_size=5000)])
    with _cache_lock:
        _trees[key] = tree
        while len(_trees) > CACHED_TREES:
            _trees.popitem(last=False)
    return tree


def day_totals(day: LiabilityDay) -> dict[str, int]:
    """The published sums by field, ``owed`` (what the shop owes) and ``members``."""
    out = {name: int(getattr(day, name)) for name in FIELDS}
    out["owed"] = sum(out[name] for name in FIELDS[:-1])
    out["members"] = day.members
    return out


# --- liandong verify -------------------------------------------------------------------------------------------------


def compare_day(engine: Engine, day: dt.date, position: int, using: str = "default") -> list[str]:
    """``liandong verify`` at a replayed close: the stored proof of ``day`` (when this close made it) must hold the
    replay's amounts for every member, and its root and sums must be the tree of those amounts under the stored salts
    (the salts themselves depend on the secret, which ``verify`` may not have)."""
    stored = LiabilityDay.objects.using(using).filter(day=day, position=position).first()
    if stored is None:
        return []
    replayed = snapshot(engine, day.isoformat(), b"")  # salts aside: the amounts are what is compared
    leaves = {member: (salt, tuple(amounts)) for member, salt, *amounts in LiabilityLeaf.objects.using(using)
              .filter(day=day).values_list("member", "salt", *FIELDS)}
    problems = []
    rebuilt = []
    for leaf in replayed.leaves:
        found = leaves.pop(leaf.member, None)
        if found is None:
            problems.append(f"liabilities {day}: member {leaf.member} has no leaf")
            continue
        if found[1] != leaf.amounts:
            problems.append(f"liabilities {day}: leaf of {leaf.member}: expected {list(leaf.amounts)}, the database "
                            f"has {list(found[1])}")
        rebuilt.append(Leaf(leaf.member, bytes.fromhex(found[0]), leaf.amounts))
    problems += [f"liabilities {day}: {member} is not a member at the close but has a leaf" for member in leaves]
    tree = LiabilityTree.build(day.isoformat(), rebuilt)
    expected = (tree.root.hex(), tree.members, *tree.sums[: len(FIELDS)])
    actual = (stored.root, stored.members, *(getattr(stored, name) for name in FIELDS))
    if not problems and expected != actual:
        problems.append(f"liabilities {day}: expected root {expected[0]} over {expected[1]} members, sums "
                        f"{list(expected[2:])}; the database has {actual[0]} over {actual[1]}, {list(actual[2:])}")
    return problems


def unreplayed_days(positions: set[int], up_to: int, using: str = "default") -> list[str]:
    """Stored proofs that no replayed close made."""
    return [f"liabilities {day}: a proof at position {position}, where the replay closed no day"
            for day, position in LiabilityDay.objects.using(using).filter(position__lte=up_to)
            .exclude(position__in=positions).values_list("day", "position")]
