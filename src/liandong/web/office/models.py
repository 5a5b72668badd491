"""The back office's own rows: a plan settings preview, run in the background (``plan_preview``), its progress
and its result."""

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
