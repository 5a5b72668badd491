"""What the back office's campaign forms call each parameter, and the help under it, in the page's language; and the
audit's campaign checks (``sim/audit.py``, which speaks English for its report) as the office's checks panel says
them, keyed by check id. The parameter's own name stays in the form (the input's ``name``, a small code tag) so an
operator can match it with the API and the docs.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

#: A parameter's label and help, by name (every kind's model: ``campaign_reads.param_fields``).
LABELS: dict[str, tuple[Any, Any]] = {
    "plans_apply": (_("Plans apply"), _("Ticked: a purchase in this campaign counts for the shop's other plans "
                                        "(rebates, ranks) like any sale.")),
    "sku": (_("Product"), _("The product's SKU: what members buy.")),
    "prize_sku": (_("Prize product"), _("The product's SKU: what the prize's box gives.")),
    "expire_hours": (_("Hours to fill a group"), _("A group not full by then is dissolved and every member paid "
                                                   "back in full.")),
    "group_size": (_("Group size"), _("Members in one group: it is drawn once full.")),
    "winners": (_("Winners per group"), _("Members drawn in each full group; fewer than the group size.")),
    "loser_bonus": (_("Loser bonus (yuan)"), _("Paid to each member not drawn, on top of the price back.")),
    "winner_fund": (_("Winner's shopping fund"), _("A winner's locked shopping fund: the price paid, or a fixed "
                                                   "amount.")),
    "unlock_on_join": (_("Fund unlocked per own drawn seat"), _("Share of the fund released each time the winner "
                                                                 "takes another seat that is drawn.")),
    "unlock_on_invite": (_("Fund unlocked per invitee's drawn seat"), _("Share of the fund released each time "
                                                                         "someone the winner invited is drawn.")),
    "max_size": (_("Largest group"), _("The most members a starter may choose for a group.")),
    "price": (_("Price (yuan)"), _("What each participant pays when joining.")),
    "tier_size": (_("Joins per tier"), _("Each time this many more have joined, the price drops by a tier.")),
    "tier_rebate": (_("Rebate per tier (yuan)"), _("What each tier takes off the price, for everyone.")),
    "max_tiers": (_("Most tiers"), _("The price drops at most this many times.")),
    "free_every": (_("A free draw every"), _("Each time this many have joined, one participant is drawn free.")),
    "target": (_("Target"), _("The pre-sale closes when this many have joined.")),
    "deadline": (_("Deadline"), _("The pre-sale closes at this time if the target is not reached.")),
    "unit_cost": (_("Unit cost (yuan)"), _("Your own figure, never shown to members: the campaign's margin.")),
    "shipping": (_("Shipping per unit (yuan)"), _("Your own figure, never shown to members: the campaign's "
                                                  "margin.")),
    "start_fee": (_("Start fee (yuan)"), _("What a member pays to start a box set.")),
    "start_coupons": (_("Coupons to start"), _("Blind-box coupons a member gives to start a set.")),
    "boxes": (_("Boxes in a set"), _("How many boxes one set holds; exactly one holds the prize.")),
    "win_from": (_("Prize window from box"), _("The first box that may hold the prize.")),
    "win_to": (_("Prize window to box"), _("The last box that may hold the prize (at most the boxes in a set).")),
    "open_price": (_("Price to open a box (yuan)"), _("What each opener pays; at most 200.00.")),
    "starter_share": (_("Starter's share (yuan)"), _("Of each box's price, to the member who started the set.")),
    "promoter_share": (_("Opener's referrer's share (yuan)"), _("Of each box's price, to the opener's referrer "
                                                                 "(to the shop when there is none).")),
    "miss_coupons": (_("Coupons for a miss"), _("What a box without the prize gives its opener.")),
    "win_coupons": (_("Coupons instead of the prize"), _("What the prize's box gives when its opener takes coupons "
                                                        "instead of the product.")),
    "start_promotion": (_("Start promotion (yuan)"), _("Paid by the shop on each start: to the starter's referrer "
                                                       "and team leader.")),
    "referrer_promotion": (_("Of it, to the starter's referrer (yuan)"), _("The rest goes to the starter's team "
                                                                           "leader, or the shop keeps it.")),
}

#: The audit's campaign checks: title and threshold by check id, as the checks panel shows them.
CHECK_TEXTS: dict[str, tuple[Any, Any]] = {
    "largest_prize": (_("Largest lottery or blind-box prize"), _("fail above 50,000.00")),
    "draw_odds": (_("Disclosed odds against realised odds (chi-square)"), _("fail at p < 0.001, warn at p < 0.01")),
    "frozen_rules": (_("Rules frozen once published"), _("fail when a published campaign's rules can be changed")),
}
#: The audit's fixed figures (its sentences without a number), by their English text.
CHECK_FIGURES: dict[str, Any] = {
    "changes refused for every published campaign": _("changes refused for every published campaign"),
    "no lotteries or blind boxes in the plan": _("no lotteries or blind boxes in the plan"),
    "no drawn campaigns": _("no drawn campaigns"),
    "no campaigns": _("no campaigns"),
}


def label_of(name: str) -> tuple[Any, Any]:
    """A parameter's label and help (its name and no help for a parameter not in the table)."""
    return LABELS.get(name, (name, ""))


def check_texts(check_id: str, title: str, threshold: str, figure: str) -> dict[str, Any]:
    """A check's title, threshold and figure in the page's language (the audit's English where none is known)."""
    known = CHECK_TEXTS.get(check_id)
    return {"title": known[0] if known else title, "threshold": known[1] if known else threshold,
            "figure": CHECK_FIGURES.get(figure, figure)}
