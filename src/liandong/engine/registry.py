"""The one place that names every plan and campaign module the engine can run, in the order it runs them.

A new plan or campaign is a new module and one line here; adding one changes no other module.
"""

from __future__ import annotations

from .campaigns.base import CampaignLifecycle
from .module import Module
from .plans.chain21 import Chain21

#: Plans a shop turns on in its ``plans:`` (each with its config and the products it applies to).
PLANS: dict[str, type[Module]] = {
    "chain21": Chain21,
}

#: Campaign modules: always loaded; each campaign is created by an event with its own published parameters.
CAMPAIGNS: dict[str, type[Module]] = {
    "campaigns": CampaignLifecycle,
}
