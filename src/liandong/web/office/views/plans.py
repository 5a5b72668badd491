"""Plan settings (``/office/plans``): each plan the shop runs, its config as a form validated with the plan's own
model, each change shown against the current version; **Preview** runs the shop's history and the audit under the
proposed config in the background (``plan_preview``) with a progress bar, its figures beside the current
config's; **Save** logs the API's plan-update event (``configure_plan`` carrying the whole config, a new version for
later events) through ``audit.office_act``; the versions with their changes and who made each.

Only ``configure_plan`` (the owner) changes a plan or starts a preview; ``view_office`` reads the pages.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ....sim.audit import pct
from ...api.errors import ApiError
from ...pages.people import display_names
from .. import plan_preview, plan_reads
from ..access import office_of, office_view
from ..audit import office_act
from ..models import PlanPreview
from .withdrawals import announce

PERMISSION = "configure_plan"
PREVIEWS_LISTED = 5


def _plan_or_404(plan: str) -> dict[str, Any]:
    if plan not in plan_reads.configurable_plans():
        raise Http404(plan[:64])
    try:
        return plan_reads.current(plan)
    except ApiError:
        raise Http404(plan[:64]) from None


@require_GET
@office_view(PERMISSION)
def plans(request: HttpRequest) -> HttpResponse:
    rows = []
    for kind in plan_reads.configurable_plans():
        found = plan_reads.versions(kind)
        rows.append({"plan": kind, "version": found[-1]["version"], "versions": len(found),
                     "changed_at": found[-1]["at"], "keys": len(found[-1]["config"])})
    return render(request, "office/plans.html", {"rows": rows})


def _ratio(value: Any) -> str:
    return pct(value) if isinstance(value, (int, float)) else "–"


def preview_view(preview: PlanPreview) -> dict[str, Any]:
    """A preview as the page shows it: the progress, or the figures beside each other."""
    out: dict[str, Any] = {"id": preview.id, "status": preview.status, "progress": preview.progress,
                           "percent": round(preview.progress * 100), "stage": preview.stage,
                           "changes": preview.changes, "by": preview.requested_by, "at": preview.created_at,
                           "version": preview.version, "error": preview.error}
    result = preview.result or {}
    if preview.status == PlanPreview.DONE and result:
        history, audit = result["history"], result["audit"]
        out["history"] = {side: {**history[side], "payout": _ratio(history[side]["payout_ratio"]),
                                 "loss": _ratio(history[side]["at_loss_share"])}
                          for side in ("current", "proposed")}
        names = display_names(m["member"] for m in history["members"])
        out["members"] = [{**m, "name": names.get(m["member"], "")} for m in history["members"]]
        out["members_total"], out["members_changed"] = history["members_total"], history["members_changed"]
        out["audit"] = {"command": audit["command"], "options": audit["options"]}
        for side in ("current", "proposed"):
            a = audit[side]
            out["audit"][side] = a if "error" in a else {**a, "payout": _ratio(a["payout_ratio"]),
                                                         "loss": _ratio(a["below_zero_share"]),
                                                         "na": a["counts"].get("n/a", 0)}
    return out


def _shown_changes(review: list[list[Any]] | None, preview: PlanPreview | None) -> list[tuple[str, str, str]] | None:
    """The changes the page shows: the form's under review, else the preview's; None when there are none to show."""
    if review is not None:
        return plan_reads.shown_changes(review)
    return plan_reads.shown_changes(preview.changes) if preview is not None else None


def _page(request: HttpRequest, plan: str, *, values: dict[str, Any] | None = None,
          problem: plan_reads.FormProblem | None = None, review: list[list[Any]] | None = None,
          preview: PlanPreview | None = None, status: int = 200) -> HttpResponse:
    now = _plan_or_404(plan)
    office = office_of(request)
    if preview is not None and values is None:
        values = preview.config
    previews = PlanPreview.objects.filter(plan=plan).order_by("-id")[:PREVIEWS_LISTED]
    return render(request, "office/plan.html", {
        "plan": plan, "current": now, "fields": plan_reads.form_fields(now["config"], values),
        "problem": problem,
        "changed": _shown_changes(review, preview),
        "preview": preview_view(preview) if preview else None,
        "previews": previews, "versions": plan_reads.versions_with_changes(plan),
        "can_configure": office.may_act(PERMISSION), "audit_command": plan_preview.audit_command()}, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@office_view(PERMISSION)
def plan(request: HttpRequest, plan: str) -> HttpResponse:
    """GET: the form and the versions (``?preview=<id>``: that preview beside the current config); POST: the
    form reviewed — validated, each change against the current version — without logging anything."""
    if request.method == "POST":
        current = _plan_or_404(plan)
        try:
            proposed = plan_reads.proposed_config(plan, current["config"], request.POST)
        except plan_reads.FormProblem as problem:
            return _page(request, plan, values=_submitted(current["config"], request.POST), problem=problem,
                         status=400)
        return _page(request, plan, values=proposed, review=plan_reads.changes(current["config"], proposed))
    raw = request.GET.get("preview", "")
    preview = None
    if raw:
        preview = PlanPreview.objects.filter(id=int(raw), plan=plan).first() if raw.isdigit() else None
        if preview is None:
            raise Http404(raw[:20])
    return _page(request, plan, preview=preview)


def _submitted(config: dict[str, Any], form: QueryDict) -> dict[str, Any]:
    """The form's values as typed (shown again with the problem), over ``config``."""
    values: dict[str, Any] = {k: (dict(v) if isinstance(v, dict) else v) for k, v in config.items()}
    for f in plan_reads.form_fields(config):
        if f.name in form:
            if "." in f.key and not f.name.startswith("j."):
                key, sub = f.key.split(".", 1)
                values[key][sub] = form[f.name]
            else:
                values[f.key] = form[f.name]
    return values


def _proposal(request: HttpRequest, plan: str) -> tuple[dict[str, Any], dict[str, Any], list[list[Any]]] | HttpResponse:
    current = _plan_or_404(plan)
    try:
        proposed = plan_reads.proposed_config(plan, current["config"], request.POST)
    except plan_reads.FormProblem as problem:
        return _page(request, plan, values=_submitted(current["config"], request.POST), problem=problem, status=400)
    changed = plan_reads.changes(current["config"], proposed)
    if not changed:
        messages.info(request, _("Nothing changed: the form is the current config."))
        return HttpResponseRedirect(reverse("office:plans_plan", args=[plan]))
    return current, proposed, changed


@require_POST
@office_view(PERMISSION)
def start_preview(request: HttpRequest, plan: str) -> HttpResponse:
    found = _proposal(request, plan)
    if isinstance(found, HttpResponse):
        return found
    current, proposed, changed = found
    running = plan_preview.running_preview()
    if running is not None:
        messages.error(request, _("Preview %(id)s is still running: wait for it to finish, then preview again.") % {
            "id": running.id})
        return HttpResponseRedirect(reverse("office:plans_plan", args=[running.plan]) + f"?preview={running.id}")
    preview = PlanPreview.objects.create(plan=plan, config=proposed, current=current["config"],
                                         version=current["version"], changes=changed,
                                         requested_by=request.user.get_username())
    plan_preview.start(preview)
    return HttpResponseRedirect(reverse("office:plans_plan", args=[plan]) + f"?preview={preview.id}")


@require_POST
@office_view(PERMISSION)
def save(request: HttpRequest, plan: str) -> HttpResponse:
    """The API's plan update: one ``configure_plan`` event with the whole config, for the events after it. A form
    built on a version that is no longer the current one is sent back to be reviewed again."""
    found = _proposal(request, plan)
    if isinstance(found, HttpResponse):
        return found
    current, proposed, changed = found
    built_on = request.POST.get("version", "")
    if built_on != str(current["version"]):
        messages.error(request, _("The plan changed since this form was opened (now version %(version)s): review "
                                  "your changes against it and save again.") % {"version": current["version"]})
        return _page(request, plan, values=proposed, review=changed, status=409)
    result = office_act(request, "configure_plan", {"plan": plan, "config": proposed}, permission=PERMISSION,
                        target=plan, snapshot=lambda: plan_reads.plan_snapshot(plan), key=request.POST.get("key"))
    now = plan_reads.current(plan)
    announce(request, result, _("Saved %(plan)s as version %(version)s: it applies to the events after it.") % {
        "plan": plan, "version": now["version"]})
    return HttpResponseRedirect(reverse("office:plans_plan", args=[plan]))


@require_GET
@office_view(PERMISSION)
def preview_status(request: HttpRequest, preview: int) -> HttpResponse:
    """The progress bar's poll: status, progress (0 to 1), stage; the page reloads once it is done."""
    found = PlanPreview.objects.filter(id=preview).first()
    if found is None:
        raise Http404(str(preview))
    return JsonResponse({"id": found.id, "status": found.status, "progress": round(found.progress, 4),
                         "stage": found.stage, "done": found.status in (PlanPreview.DONE, PlanPreview.FAILED),
                         "url": reverse("office:plans_plan", args=[found.plan]) + f"?preview={found.id}"})
