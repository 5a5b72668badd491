"""The back office's own rows: a plan settings preview, run in the background (``plan_preview``), its progress
and its result; the blind-box offers (``offers``), the terms members start box sets with."""

from __future__ import annotations

from django.db import models


class PlanPreview(models.Model):
    """One preview of a proposed plan config: the simulator and the audit on the shop's history and a preset,
    run by a background thread the page started; the page polls ``status`` and ``progress``."""

    QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"

    plan = models.CharField(max_length=64)
    config = models.JSONField(help_text="the proposed config, whole (as configure_plan would carry it)")
    current = models.JSONField(help_text="the plan's current config when the preview was asked for")
    version = models.IntegerField(help_text="the current config's version")
    changes = models.JSONField(default=list, help_text="[key, old, new] of each changed key")
    requested_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=16, default=QUEUED)
    progress = models.FloatField(default=0.0, help_text="0 to 1")
    stage = models.CharField(max_length=64, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["plan", "-id"], name="office_preview_plan")]


class BlindBoxOffer(models.Model):
    """Terms an operator offers members to start blind-box sets with (docs/campaign-pages.md, "Blind-box offers").

    The engine has no operator event that creates a blind box: each set is created and paid by a member's
    ``start_blind_box``, which carries its terms. An offer is the back office's row of those terms: a prize
    product and the engine's ``BlindBoxParams`` (``params``, validated by the engine's own model and kept as the
    engine's view shows a set's params: money as two-decimal strings, no secret). A draft may be edited; once
    published it never changes (the members' Start button logs exactly these params); to change terms, retire it
    and publish another. Every step is an audit row (``office_record``); no money moves, so no event.

    Example: ``BlindBoxOffer(status="published", params={"prize_sku": "BOX", "start_fee": "30.00", …})`` is a card
    on ``/campaigns`` until retired.
    """

    STATUSES = ("draft", "published", "retired")

    params = models.JSONField(default=dict)
    status = models.CharField(max_length=16, default="draft")
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "id"], name="offer_status_order")]

    def __str__(self) -> str:
        return f"blind-box offer {self.pk} ({self.status})"
