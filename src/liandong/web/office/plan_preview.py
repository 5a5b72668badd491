"""The plan settings' preview: what a proposed config would have done, beside the current one, run in the
background (a thread the page starts; ``PlanPreview`` keeps its progress and result, the page polls it).

Two pieces of evidence, both the engine's and the simulator's own, nothing estimated here:

1. **The shop's own history.** The log is replayed (``service.dryrun.replayed``) into a fresh engine whose
   config of the plan is the proposed one from the shop's start, leaving out the plan's own ``configure_plan``
   events (the proposal stands for the whole history), and again with the current config the same way, so the
   two differ by the config alone (the shop's other plans start from their initial configs and change as they
   did). From each engine: sales, rewards and money committed in pools (the simulator's
   definitions: ``metrics._totals``), the payout ratio, and each member's rewards (the simulator's
   ``rewards_of``: its books plus the withdrawal fees it paid) and net result (rewards less its orders not
   refunded); the members whose rewards differ (ids: the page names them); the share of members (who bought or
   earned) at a net loss.
2. **The audit** (``sim.audit.gather`` / ``audit_doc``) of the shop's plans with the proposed config, and with the
   current one, on the default preset (``sim/presets/default.yaml``) with the members, days and stall day of
   ``settings.OFFICE_PREVIEW_AUDIT``: exactly ``liandong audit plans.yaml --members M --days D --stall-day S``
   of the same plans (the page shows that command). Its payout ratio and share of members below zero are the
   growth run's; its failing checks are listed.

Progress: the history replays are the first fifth, the four simulations the rest (days done), the probes the end.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from ...engine.core import MEMBER_BOOKS, SALES, Engine
from ...engine.money import format_fen
from ...service import dryrun
from ...service.store.models import MemberState
from ...sim.audit import FAIL, audit_doc, gather
from ...sim.metrics import ratio
from ...sim.planfile import PlanFileError, PlanSpec, parse_plan_doc
from ...sim.plans import adapter_for
from ...sim.preset import Preset, load_preset
from .models import PlanPreview

log = logging.getLogger("liandong.office.preview")
DEFAULT_AUDIT = {"members": 20000, "days": 400, "stall_day": 90}
MEMBERS_SHOWN = 50
HISTORY_SHARE = 0.2
SAVE_EVERY = 0.5  # seconds between progress writes


def audit_options() -> dict[str, int]:
    return {**DEFAULT_AUDIT, **getattr(settings, "OFFICE_PREVIEW_AUDIT", {})}


def audit_preset() -> Preset:
    options = audit_options()
    return load_preset(None).with_overrides(members=options["members"], days=options["days"])


def audit_command(plan_file: str = "plans.yaml") -> str:
    o = audit_options()
    return f"liandong audit {plan_file} --members {o['members']} --days {o['days']} --stall-day {o['stall_day']}"


def shop_plans(kind: str, config: dict[str, Any], *, initial: bool = False) -> dict[str, dict[str, Any]]:
    """The shop's plans with ``kind``'s config replaced by ``config``; the others' current configs (the plan file
    the audit reads, ``plans:``), or with ``initial`` their configs at the shop's start (the history's replay, in
    which their own later changes apply as they happened)."""
    from . import plan_reads

    plans = {k: plan_reads.versions(k)[0 if initial else -1]["config"] for k in plan_reads.setup_plans()}
    plans[kind] = config
    return plans


# --- the shop's history ------------------------------------------------------------------------------------------


def member_rewards(engine: Engine, member: str) -> int:
    """Everything credited to the member less reversals: the sum of its books plus the withdrawal fees it paid
    (the simulator's ``rewards_of``)."""
    get = engine.ledger.balances.get
    fees = sum(w.fee for w in engine.withdrawals.values()
               if w.member == member and (w.status == "paid" or (w.status == "approved" and not w.payout_pending)))
    return sum(get((member, book), 0) for book in MEMBER_BOOKS) + fees


def member_spend(engine: Engine) -> dict[str, int]:
    spend: dict[str, int] = {}
    for order in engine.orders.values():
        if not order.refunded:
            spend[order.member] = spend.get(order.member, 0) + order.amount
    return spend


def history_figures(engine: Engine, members: list[str], plans: dict[str, Any]) -> dict[str, Any]:
    rewards = {m: member_rewards(engine, m) for m in members}
    spend = member_spend(engine)
    nets = [rewards[m] - spend.get(m, 0) for m in members if rewards[m] or spend.get(m)]
    sales = engine.ledger.balance(SALES)
    paid = engine.ledger.rewards_fen()
    committed = sum(adapter_for(kind).committed(engine) for kind in plans)
    return {"sales": format_fen(sales), "rewards": format_fen(paid), "committed": format_fen(committed),
            "payout_ratio": ratio(paid + committed, sales), "members": len(nets),
            "at_loss": sum(1 for n in nets if n < 0), "at_loss_share": ratio(sum(1 for n in nets if n < 0), len(nets)),
            "by_member": rewards}


def history(kind: str, current: dict[str, Any], proposed: dict[str, Any],
            progress: Callable[[float], None]) -> dict[str, Any]:
    """The shop's log replayed under the current and the proposed config of ``kind`` (see the module docstring)."""
    def skip(verb: str, payload: Any) -> bool:
        return verb == "configure_plan" and payload.get("plan") == kind

    up_to = dryrun.committed_position()
    members = list(MemberState.objects.order_by("join_index").values_list("member", flat=True))
    figures = {}
    for step, (side, config) in enumerate((("current", current), ("proposed", proposed))):
        plans = shop_plans(kind, config, initial=True)
        engine, _position = dryrun.replayed(plans, skip=skip, up_to=up_to)
        figures[side] = history_figures(engine, members, plans)
        progress((step + 1) / 2)
    cur, new = figures["current"].pop("by_member"), figures["proposed"].pop("by_member")
    rows = [{"member": m, "current": cur[m], "proposed": new[m], "difference": new[m] - cur[m]} for m in members]
    rows.sort(key=lambda r: (-abs(r["difference"]), -r["proposed"], r["member"]))
    changed = sum(1 for r in rows if r["difference"])
    shown = [{**r, "current": format_fen(r["current"]), "proposed": format_fen(r["proposed"]),
              "difference": format_fen(r["difference"])} for r in rows[:MEMBERS_SHOWN] if r["difference"]]
    return {"position": up_to, **figures, "members": shown, "members_total": len(rows), "members_changed": changed}


# --- the audit ---------------------------------------------------------------------------------------------------


def plan_spec(plans: dict[str, dict[str, Any]], preset: Preset) -> PlanSpec:
    """The plan file ``{"plans": plans}`` read as ``liandong audit`` reads it (a bad one: ``PlanFileError``)."""
    return parse_plan_doc({"plans": plans}, "plans.yaml", preset)


def audit_summary(doc: dict[str, Any]) -> dict[str, Any]:
    growth = doc["growth"]
    return {"verdict": doc["verdict"], "counts": doc["counts"],
            "failing": [{"id": c["id"], "title": c["title"], "figure": c["figure"], "threshold": c["threshold"]}
                        for c in doc["checks"] if c["status"] == FAIL],
            "payout_ratio": growth["totals"]["payout_ratio"],
            "below_zero_share": growth["net_result"]["share_below_zero"],
            "checks": [{k: c[k] for k in ("id", "title", "figure", "status")} for c in doc["checks"]]}


def run_audit(plans: dict[str, dict[str, Any]], progress: Callable[[int, int, int], None]) -> dict[str, Any]:
    preset = audit_preset()
    try:
        spec = plan_spec(plans, preset)
    except PlanFileError as exc:
        return {"error": str(exc)}
    evidence = gather(spec, preset, audit_options()["stall_day"], workers=1, progress=progress)
    return audit_summary(audit_doc(evidence))


# --- the background run -------------------------------------------------------------------------------------------


def run_preview(preview_id: int) -> None:
    """Run the preview whose row is ``preview_id`` to its end, writing progress and the result to the row."""
    preview = PlanPreview.objects.get(id=preview_id)
    preview.status, preview.stage = PlanPreview.RUNNING, "history"
    preview.save(update_fields=["status", "stage"])
    last = [0.0]

    def report(share: float, stage: str, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - last[0] >= SAVE_EVERY:
            last[0] = now
            PlanPreview.objects.filter(id=preview_id).update(progress=min(share, 0.99), stage=stage)

    try:
        result: dict[str, Any] = {"history": history(preview.plan, preview.current, preview.config,
                                                     lambda s: report(HISTORY_SHARE * s, "history", True))}
        days = audit_options()["days"]
        result["audit"] = {"command": audit_command(), "options": audit_options()}
        for n, (side, config) in enumerate((("current", preview.current), ("proposed", preview.config))):
            def on_day(index: int, day: int, total: int, n: int = n) -> None:
                runs_done = n * 2 + index + day / max(total or days, 1)
                report(HISTORY_SHARE + (1 - HISTORY_SHARE) * runs_done / 4, "audit")

            result["audit"][side] = run_audit(shop_plans(preview.plan, config), on_day)
        PlanPreview.objects.filter(id=preview_id).update(status=PlanPreview.DONE, progress=1.0, stage="done",
                                                         result=result, finished_at=timezone.now())
    except Exception as exc:  # the page says it failed; the log has the trace
        log.exception("plan preview %s failed", preview_id)
        PlanPreview.objects.filter(id=preview_id).update(status=PlanPreview.FAILED, error=str(exc)[:2000],
                                                         finished_at=timezone.now())


#: A preview running longer than this is taken for one whose process stopped: it no longer blocks a new one.
STALE_AFTER = dt.timedelta(minutes=30)


def running_preview() -> PlanPreview | None:
    """The preview running now, if any: one at a time for the shop (each replays the log and runs four
    simulations)."""
    return (PlanPreview.objects.filter(status__in=(PlanPreview.QUEUED, PlanPreview.RUNNING),
                                       created_at__gte=timezone.now() - STALE_AFTER).order_by("-id").first())


def start(preview: PlanPreview) -> None:
    """Run the preview in a background thread (in the request itself with ``OFFICE_PREVIEW_INLINE``: tests)."""
    if getattr(settings, "OFFICE_PREVIEW_INLINE", False):
        run_preview(preview.id)
        return

    def background() -> None:
        close_old_connections()
        try:
            run_preview(preview.id)
        finally:
            connection.close()

    threading.Thread(target=background, name=f"plan-preview-{preview.id}", daemon=True).start()
