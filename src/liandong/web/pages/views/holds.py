"""The member's held rewards (the fraud holds, ``docs/fraud-holds.md``) as the earnings page shows them: each with
its amount, the reason in words (which rule flagged it, which kind of signal was shared with whom, never the
value), the review date (overdue once passed: a hold is never released by time) and, once decided, the decision.
A read of the fraud-holds module's member read as the worker wrote it; nothing here decides or computes money."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from ....engine.plans.fraud_holds import SIGNAL_LABELS
from ...api import reads
from ..people import display_names


def reason_text(hold: dict[str, Any], member: str, names: dict[str, str]) -> str:
    """The rule's reason (its English msgid from the module, translated) with its evidence filled in: the member
    itself reads as "you", another member by display name, a signal by its label."""
    evidence = dict(hold.get("evidence") or {})
    other = evidence.get("other")
    if other is not None:
        evidence["other"] = _("you") if other == member else names.get(other, other)
    if "signal" in evidence:
        signal = evidence["signal"] or ""
        evidence["signal"] = _(SIGNAL_LABELS.get(signal, signal))
    try:
        return _(hold["reason"]).format(**evidence)
    except (KeyError, IndexError):
        return _(hold["reason"])


def held_rewards(member: str) -> dict[str, Any] | None:
    """The member's holds, open ones first, or None when it has none (and is not banned)."""
    read = reads.plan_read(reads.member_state(member), "fraud_holds")
    if not read:
        return None
    holds = list(read.get("holds") or [])
    names = display_names([h["evidence"]["other"] for h in holds if h.get("evidence", {}).get("other")]
                          + [h["source"] for h in holds if h.get("source")])
    today = reads.today().isoformat()  # overdue by the wall clock, not when the worker last wrote the read
    shown = [{**h, "reason_text": reason_text(h, member, names), "buyer": names.get(h.get("source") or "", ""),
              "overdue": h["status"] == "held" and today > h["review_by"]} for h in holds]
    shown.sort(key=lambda h: (h["status"] != "held", h["review_by"], h["hold"]))
    return {"held": read.get("held", "0.00"), "holds": shown, "banned": bool(read.get("banned"))}
