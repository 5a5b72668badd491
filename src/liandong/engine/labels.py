"""How each ledger rule reads on a member's statement, in English and Chinese.

Modules register their rules at import: ``register_rule("team_reward", "team reward", "团队奖(见点)", "your team")``.
A statement line reads ``+200.00 team reward · order o7 by C (your team)``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RuleLabel:
    en: str
    zh: str
    note_en: str = ""
    note_zh: str = ""


RULES: dict[str, RuleLabel] = {}


def register_rule(rule: str, en: str, zh: str, note_en: str = "", note_zh: str = "") -> None:
    RULES[rule] = RuleLabel(en, zh, note_en, note_zh)


def label(rule: str, lang: str = "en") -> str:
    found = RULES.get(rule)
    if found is None:
        return rule.replace("_", " ")
    return found.zh if lang.startswith("zh") else found.en


register_rule("sale", "sale", "销售")
register_rule("settlement", "settled", "结算入账")
register_rule("withdrawal", "withdrawal requested", "申请提现")
# Approved and paid out at once (the rulebook's approve_withdrawal): the amount leaves withdrawing with the approval.
register_rule("withdrawal_approved", "withdrawal approved and paid out", "提现已批准并打款")
# Approved earlier with the payout to come (the service's approval); the payout was recorded (mark-paid).
register_rule("withdrawal_paid", "withdrawal paid out", "提现已打款")
register_rule("withdrawal_rejected", "withdrawal rejected, returned", "提现被拒，已退回")

#: Where a withdrawal stands, as the member's and the operator's lists show it. ``approved`` is either paid out
#: with the approval (the rulebook's) or waiting for its payout (the service's: ``approved_payout_pending``).
WITHDRAWAL_STATUS: dict[str, RuleLabel] = {
    "requested": RuleLabel("withdrawal requested, awaiting review", "提现申请中，待审核"),
    "approved_payout_pending": RuleLabel("withdrawal approved, payout pending", "提现已批准，待打款"),
    "approved": RuleLabel("withdrawal approved and paid out", "提现已批准并打款"),
    "paid": RuleLabel("withdrawal paid out", "提现已打款"),
    "rejected": RuleLabel("withdrawal rejected, returned", "提现被拒，已退回"),
}


def withdrawal_status_label(status: str, payout_pending: bool, lang: str = "en") -> str:
    found = WITHDRAWAL_STATUS.get("approved_payout_pending" if status == "approved" and payout_pending else status)
    if found is None:
        return status
    return found.zh if lang.startswith("zh") else found.en
