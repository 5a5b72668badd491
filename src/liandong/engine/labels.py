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
register_rule("withdrawal_approved", "withdrawal paid out", "提现已打款")
register_rule("withdrawal_rejected", "withdrawal rejected, returned", "提现被拒，已退回")
