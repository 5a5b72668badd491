"""The projection rows the worker writes, built from the engine: one function per table, plain dicts of field values.

Views are as the engine gives them (JSON once written: dates as ISO text, see ``bulk.json_default``); every
module's part comes from its declared read models (``member_read``, ``operator_read``, ``shop_read``), so a new
module's reads reach the API with no change here.
The worker upserts them for what a batch touched; ``verify`` builds the same rows from its replay and compares them
with the database, so a row the worker forgot to rewrite shows up as a difference. Example: after B's first gift
pack (referred by A, an agent), ``member_row(engine, "B")`` is::

    {"member": "B", "referrer": "A", "rank": "agent", "team": "", "bound_promoter": "", "join_index": 1, …,
     "view": {"referrer": "A", "rank": "agent", "team": None, "seeds": [], "available": "0.00", ...},
     "reads": {"chain21": {"rank": "agent", "direct_agents": 0, "promote_after": 2, ...}}, "operator_reads": {…}}
"""

from __future__ import annotations

from typing import Any

from ..engine.campaigns.base import CampaignModule
from ..engine.core import Engine
from .feed import campaign_modules


def member_reads(engine: Engine, member_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """What the member sees of each running module (and of the core: ``core``), and what an operator sees (kind ->
    read; modules that show nothing are left out)."""
    reads: dict[str, Any] = {}
    operator: dict[str, Any] = {}
    core = engine.core_member_read(member_id)  # when its pending amounts settle (the core's read, not a module's)
    if core is not None:
        reads["core"] = core
    for kind, module in engine.modules.items():
        read = module.member_read(engine, member_id)
        if read is not None:
            reads[kind] = read
        seen = module.operator_read(engine, member_id)
        if seen is not None:
            operator[kind] = seen
    return reads, operator


def bound_promoter(reads: dict[str, Any]) -> str:
    """The promoter the member's distribution read names (``bound_to.promoter``, its binding expired or not), or ""."""
    bound_to = (reads.get("distribution") or {}).get("bound_to") or {}
    return str(bound_to.get("promoter") or "")


def member_row(engine: Engine, member_id: str) -> dict[str, Any]:
    member = engine.members[member_id]
    view = engine.member_view(member_id)
    reads, operator_reads = member_reads(engine, member_id)
    return {
        "member": member_id,
        "referrer": member.referrer or "",
        "joined_at": member.joined_at,
        "join_index": member.index,
        "rank": str(view.get("rank") or ""),
        "team": str(view.get("team") or ""),
        "bound_promoter": bound_promoter(reads),
        "view": view,
        "reads": reads,
        "operator_reads": operator_reads,
    }


def module_rows(engine: Engine) -> list[dict[str, Any]]:
    """Each running module's shop-wide read (``shop_read``) and, for plans, its end-state keys (campaigns have
    their own rows); modules with neither have no row."""
    rows = []
    for kind, module in engine.modules.items():
        view = module.shop_read(engine)
        state = module.end_state(engine) if not type(module).always_on else {}
        if view is not None or state:
            rows.append({"kind": kind, "view": view or {}, "end_state": state})
    return rows


def product_row(engine: Engine, sku: str) -> dict[str, Any]:
    p = engine.products[sku]
    return {"sku": sku, "price": p.price, "gift_pack": p.gift_pack, "red_envelope": p.red_envelope,
            "name": p.name or "", "active": p.active, "cost": p.cost}


def order_row(engine: Engine, order_id: str) -> dict[str, Any]:
    o = engine.orders[order_id]
    return {"order": order_id, "member": o.member, "sku": o.sku, "quantity": o.quantity, "amount": o.amount,
            "paid_at": o.at, "refunded": o.refunded, "campaign": o.campaign or ""}


def withdrawal_row(engine: Engine, withdrawal_id: str) -> dict[str, Any]:
    w = engine.withdrawals[withdrawal_id]
    return {"withdrawal": withdrawal_id, "member": w.member, "amount": w.amount, "fee": w.fee, "status": w.status,
            "requested_at": w.requested_at, "decided_at": w.decided_at, "reference": w.reference or "",
            "payee": w.payee or "", "payout_pending": w.payout_pending, "reason": w.reason}


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
