"""The back office's view of the event log, the ledger and the projections: read-only.

Operators change things through events (the API's operator endpoints), never by editing these rows: the log and
the ledger are append-only in the database too, and the projections are the worker's to write.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from ...service.store.models import (
    Balance,
    CampaignState,
    EventOutcome,
    LedgerEntry,
    LedgerTransaction,
    LoggedEvent,
    MemberState,
    OrderState,
    ProductState,
    ShopSetup,
    WithdrawalState,
    WorkerPosition,
)


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LoggedEvent)
class LoggedEventAdmin(ReadOnlyAdmin):
    list_display = ("position", "verb", "key", "actor", "created_at")
    list_filter = ("verb", "actor")
    search_fields = ("key", "verb")


@admin.register(EventOutcome)
class EventOutcomeAdmin(ReadOnlyAdmin):
    list_display = ("event_id", "applied", "config_version", "applied_at")
    list_filter = ("applied", "config_version")


class LedgerEntryInline(admin.TabularInline):  # type: ignore[type-arg]
    model = LedgerEntry
    fields = ("owner", "book", "unit", "amount", "balance_after")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ReadOnlyAdmin):
    list_display = ("id", "event_id", "rule", "plan", "order", "source", "reverses", "ref", "at")
    list_filter = ("rule", "plan")
    search_fields = ("order", "source", "ref")
    inlines = [LedgerEntryInline]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ("id", "transaction_id", "owner", "book", "unit", "amount", "balance_after")
    list_filter = ("book", "unit")
    search_fields = ("owner",)


@admin.register(Balance)
class BalanceAdmin(ReadOnlyAdmin):
    list_display = ("owner", "book", "amount")
    list_filter = ("book",)
    search_fields = ("owner",)


@admin.register(MemberState)
class MemberStateAdmin(ReadOnlyAdmin):
    list_display = ("member", "rank", "team", "referrer", "join_index", "joined_at")
    list_filter = ("rank",)
    search_fields = ("member", "referrer", "team")


@admin.register(ProductState)
class ProductStateAdmin(ReadOnlyAdmin):
    list_display = ("sku", "name", "price", "gift_pack", "active")


@admin.register(OrderState)
class OrderStateAdmin(ReadOnlyAdmin):
    list_display = ("order", "member", "sku", "quantity", "amount", "paid_at", "refunded", "campaign")
    list_filter = ("refunded", "sku")
    search_fields = ("order", "member")


@admin.register(WithdrawalState)
class WithdrawalStateAdmin(ReadOnlyAdmin):
    list_display = ("withdrawal", "member", "amount", "fee", "status", "requested_at", "decided_at", "reference")
    list_filter = ("status",)
    search_fields = ("withdrawal", "member")


@admin.register(CampaignState)
class CampaignStateAdmin(ReadOnlyAdmin):
    list_display = ("campaign", "kind", "status")
    list_filter = ("kind", "status")


@admin.register(WorkerPosition)
class WorkerPositionAdmin(ReadOnlyAdmin):
    list_display = ("id", "position", "transactions", "updated_at")


@admin.register(ShopSetup)
class ShopSetupAdmin(ReadOnlyAdmin):
    list_display = ("id", "timezone", "start", "auto_close_days")
