"""Logins of members, API tokens, and the operators' audit log.

A member is a Django user with a ``MemberLogin`` naming its engine member id (``m4k2…``) and its invite code;
an operator is a Django staff user holding some of the operator permissions declared on ``AuditLog`` below
(``accounts.refund_order``, …). An API token is stored hashed: the caller keeps ``ld_…``, the table keeps
``sha256(ld_…)``, so a copy of the database does not let anyone log in.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class MemberLogin(models.Model):
    """Links a Django user to the engine's member id; ``invite_code`` is what others register with."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="member_login")
    member = models.CharField(max_length=64, unique=True)
    invite_code = models.CharField(max_length=32, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    #: Optional contacts given at registration (``accounts/contacts.py``): the mainland mobile number normalised
    #: to its eleven digits, the e-mail address as given (trimmed); empty when not given. Shown to the member
    #: itself and to operators, never to another member.
    phone = models.CharField(max_length=11, blank=True, default="", db_index=True)
    email = models.EmailField(max_length=254, blank=True, default="")

    def __str__(self) -> str:
        return f"{self.member} ({self.invite_code})"


#: The operator permissions (codename, description); staff users hold them through the admin.
OPERATOR_PERMISSIONS: tuple[tuple[str, str], ...] = (
    ("refund_order", "Refund a paid order"),
    ("decide_withdrawal", "Approve, reject or mark paid a withdrawal; export payouts"),
    ("configure_plan", "Change a plan's config and transpose seeds"),
    ("manage_products", "Create, change and withdraw products"),
    ("close_day", "Close a business day"),
    ("run_campaigns", "Create, change, publish and close campaigns"),
    ("manage_promoters", "Approve distribution promoters"),
    ("view_office", "See every back-office page (reading only)"),
)

#: The back office's roles (Django groups, made by migration ``0005_office_roles``; ``docs/office.md``): each
#: holds these operator permissions. ``finance`` holds no ``view_office``: it sees the withdrawal pages only.
OFFICE_ROLES: dict[str, tuple[str, ...]] = {
    "owner": tuple(code for code, _description in OPERATOR_PERMISSIONS),
    "operator": ("view_office", "refund_order", "manage_products", "close_day", "run_campaigns",
                 "manage_promoters"),
    "finance": ("decide_withdrawal",),
    "read-only": ("view_office",),
}


class AuditLog(models.Model):
    """Every operator action (refunds, withdrawal decisions, config changes, products): who, what, when; the
    event's fields (``detail``) and, from the back office, the target as read before and after it (``before``,
    ``after``: None where not read, ``after`` also while the worker has not applied the event)."""

    actor = models.CharField(max_length=150)
    action = models.CharField(max_length=64)
    target = models.CharField(max_length=200, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    event_position = models.BigIntegerField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at"]
        permissions = OPERATOR_PERMISSIONS
        indexes = [models.Index(fields=["actor", "id"], name="audit_actor_order"),
                   models.Index(fields=["action", "id"], name="audit_action_order"),
                   models.Index(fields=["target", "id"], name="audit_target_order")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor} {self.action} {self.target}"


class ApiToken(models.Model):
    """A bearer token for the API, kept as its SHA-256 (the token itself is shown once, when it is issued)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"token {self.token_hash[:8]}… of {self.user_id}"

