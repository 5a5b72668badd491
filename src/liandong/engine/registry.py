"""The one place that names every plan and campaign module the engine can run, in the order it runs them.

A new plan or campaign is a new module and one line here; adding one changes no other module.
"""

from __future__ import annotations

from .campaigns.base import CampaignLifecycle
from .campaigns.blind_box import BlindBox
from .campaigns.group_buy import GroupBuy
from .campaigns.presale import Presale
from .campaigns.red_envelope import RedEnvelope
from .module import Module
from .plans.chain21 import Chain21
from .plans.distribution import Distribution
from .plans.points import Points

#: Plans a shop turns on in its ``plans:`` (each with its config and the products it applies to).
PLANS: dict[str, type[Module]] = {
    "chain21": Chain21,
    "distribution": Distribution,
    "points": Points,
}

#: Campaign modules: always loaded; each campaign is created by an event with its own published parameters.
CAMPAIGNS: dict[str, type[Module]] = {
    "campaigns": CampaignLifecycle,
    "group_buy": GroupBuy,
    "red_envelope": RedEnvelope,
    "presale": Presale,
    "blind_box": BlindBox,
}
