"""The operators' back office in the Django admin: member logins, API tokens (revoke), and the audit log (read
only: it is a record, nobody edits it). Operators themselves are staff users; their permissions (refund_order,
decide_withdrawal, configure_plan, manage_products, close_day) are granted on the user's admin page."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import ApiToken, AuditLog, MemberLogin


@admin.register(MemberLogin)
class MemberLoginAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # (not subscriptable at run time)
    list_display = ("member", "user", "invite_code", "created_at")
    search_fields = ("member", "user__username", "invite_code")
    readonly_fields = ("member", "invite_code", "created_at")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # (not subscriptable at run time)
    list_display = ("user", "created_at", "expires_at", "last_used_at", "revoked")
    list_filter = ("revoked",)
    search_fields = ("user__username",)
    readonly_fields = ("user", "token_hash", "created_at", "expires_at", "last_used_at")
    actions = ("revoke",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # tokens are issued by POST /api/auth/token, which shows the token once

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        queryset.update(revoked=True)


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # (not subscriptable at run time)
    list_display = ("at", "actor", "action", "target", "event_position")
    list_filter = ("action",)
    search_fields = ("actor", "target")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
from . import ledger_admin  # noqa: F401,E402  (the event log and ledger, read-only)
