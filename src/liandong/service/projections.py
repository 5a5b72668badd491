"""The projection rows the worker writes, built from the engine: one function per table, plain dicts of field values.

Views are as the engine gives them (JSON once written: dates as ISO text, see ``bulk.json_default``).
The worker upserts them for what a batch touched; ``verify`` builds the same rows from its replay and compares them
with the database, so a row the worker forgot to rewrite shows up as a difference. Example: after B's first gift
pack (referred by A, an agent), ``member_row(engine, "B")`` is::

    {"member": "B", "referrer": "A", "rank": "agent", "team": "", "join_index": 1, "joined_at": ...,
     "view": {"referrer": "A", "rank": "agent", "team": None, "seeds": [], "available": "0.00", ...},
     "progress": {"rank": "agent", "direct_agents": 0, "promote_after": 2, ...}}
"""

from __future__ import annotations

from typing import Any

from ..engine.campaigns.base import CampaignModule
from ..engine.core import Engine
from ..engine.plans.chain21 import Chain21
from .feed import campaign_modules


def member_row(engine: Engine, member_id: str) -> dict[str, Any]:
    member = engine.members[member_id]
    view = engine.member_view(member_id)
    chain21 = engine.modules.get("chain21")
    progress = chain21.progress(engine, member_id) if isinstance(chain21, Chain21) else {}
    return {
        "member": member_id,
        "referrer": member.referrer or "",
        "joined_at": member.joined_at,
        "join_index": member.index,
        "rank": str(view.get("rank") or ""),
        "team": str(view.get("team") or ""),
        "view": view,
        "progress": progress,
    }


def product_row(engine: Engine, sku: str) -> dict[str, Any]:
    p = engine.products[sku]
    return {"sku": sku, "price": p.price, "gift_pack": p.gift_pack, "red_envelope": p.red_envelope,
            "name": p.name or "", "active": p.active}


def order_row(engine: Engine, order_id: str) -> dict[str, Any]:
    o = engine.orders[order_id]
    return {"order": order_id, "member": o.member, "sku": o.sku, "quantity": o.quantity, "amount": o.amount,
            "paid_at": o.at, "refunded": o.refunded, "campaign": o.campaign or ""}


def withdrawal_row(engine: Engine, withdrawal_id: str) -> dict[str, Any]:
    w = engine.withdrawals[withdrawal_id]
    return {"withdrawal": withdrawal_id, "member": w.member, "amount": w.amount, "fee": w.fee, "status": w.status,
            "requested_at": w.requested_at, "decided_at": w.decided_at, "reference": w.reference or "",
            "payee": w.payee or "", "payout_pending": w.payout_pending}


def campaign_row(engine: Engine, campaign_id: str) -> dict[str, Any] | None:
    for module in campaign_modules(engine):
        campaign = module.campaigns.get(campaign_id)
        if campaign is not None:
            return {"campaign": campaign_id, "kind": campaign.kind, "status": campaign.status,
                    "view": _campaign_view(module, engine, campaign_id)}
    return None


def _campaign_view(module: CampaignModule, engine: Engine, campaign_id: str) -> dict[str, Any]:
    return module.campaign_view(engine, module.campaigns[campaign_id])


def all_campaign_ids(engine: Engine) -> list[str]:
    return [cid for module in campaign_modules(engine) for cid in module.campaigns]
