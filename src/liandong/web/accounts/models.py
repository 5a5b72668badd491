"""Logins of members and the operators' audit log."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class MemberLogin(models.Model):
    """Links a Django user to the engine's member id; ``invite_code`` is what others register with."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="member_login")
    member = models.CharField(max_length=64, unique=True)
    invite_code = models.CharField(max_length=32, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)


class AuditLog(models.Model):
    """Every operator action (refunds, withdrawal decisions, config changes, products): who, what, when."""

    actor = models.CharField(max_length=150)
    action = models.CharField(max_length=64)
    target = models.CharField(max_length=200, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    event_position = models.BigIntegerField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at"]
