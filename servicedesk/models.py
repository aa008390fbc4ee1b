"""Tenancy core and accounts: users, tenants, memberships, teams, invitations."""

from __future__ import annotations

import functools
import hashlib
import secrets
import zoneinfo
from datetime import datetime
from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from servicedesk.tenancy import TenantOwned


@functools.cache
def known_timezones() -> frozenset[str]:
    """Every IANA zone name this system knows. Read once: the scan walks the
    zone database on disk each time (tens of milliseconds)."""
    return frozenset(zoneinfo.available_timezones())


def timezone_names() -> list[str]:
    """Every IANA zone name this system knows, sorted."""
    return sorted(known_timezones())


def validate_timezone(value: str) -> None:
    if value not in known_timezones():
        raise ValidationError("%(value)s is not a known time zone.", params={"value": value})


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An e-mail address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> User:
        # E-mail is the login and is compared case-insensitively.
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. E-mail is the login; tenants are reached through memberships.

    ``is_staff`` marks a platform operator (Django admin), not a tenant role.
    """

    email = models.EmailField("e-mail address", unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def display_name(self) -> str:
        return self.full_name or self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()


class Tenant(models.Model):
    """An organisation with its own portal, desk and data."""

    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    """Roles in rising order of power; each includes the ones before it."""

    REQUESTER = "requester", "Requester"
    AGENT = "agent", "Agent"
    LEAD = "lead", "Lead"
    ADMIN = "admin", "Admin"

    @classmethod
    def rank(cls, role: str) -> int:
        return list(cls.values).index(role)


class Membership(TenantOwned):
    """A user's place in one tenant, with a role. Deactivated members keep
    their history but can no longer enter the tenant."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.REQUESTER)
    is_active = models.BooleanField(default=True)
    # What SLA policies may ask of a requester: their organisation (a
    # customer, a department) and whether they get VIP treatment.
    organisation = models.CharField(max_length=100, blank=True)
    is_vip = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["tenant", "user"], name="membership_tenant_user_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="membership_role_valid"
            ),
        ]
        indexes: ClassVar = [models.Index(fields=["tenant", "role"])]

    def __str__(self) -> str:
        return f"{self.user} in {self.tenant_id} as {self.role}"

    def has_role(self, minimum: str) -> bool:
        return self.is_active and Role.rank(self.role) >= Role.rank(minimum)

    @property
    def is_agent(self) -> bool:
        return self.has_role(Role.AGENT)

    @property
    def is_admin(self) -> bool:
        return self.has_role(Role.ADMIN)


class Team(TenantOwned):
    """A group of agents that owns a queue of work."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=50)
    description = models.TextField(blank=True)
    members = models.ManyToManyField(User, related_name="teams", blank=True)
    lead = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="teams_led"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["name"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["tenant", "slug"], name="team_tenant_slug_unique"),
            models.UniqueConstraint(fields=["tenant", "name"], name="team_tenant_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


def new_invitation_nonce() -> str:
    return secrets.token_urlsafe(16)


class Invitation(TenantOwned):
    """An e-mailed offer to join a tenant with a role.

    The link carries a signed, timestamped token naming this row; the row
    records acceptance and revocation, so a link works once and not after it
    was revoked or expired. The row is also the e-mail's outbox: until
    ``email_sent_at`` is set, a sweeper keeps trying to deliver it.
    """

    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.REQUESTER)
    # Part of the signed token, so a token names exactly one row for good.
    nonce = models.CharField(max_length=32, default=new_invitation_nonce, editable=False)
    invited_by = models.ForeignKey(
        User, null=True, on_delete=models.SET_NULL, related_name="invitations_sent"
    )
    created_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    email_sent_at = models.DateTimeField(null=True, blank=True)
    email_attempts = models.PositiveSmallIntegerField(default=0)
    email_last_attempt_at = models.DateTimeField(null=True, blank=True)
    email_error = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at"]
        indexes: ClassVar = [
            models.Index(fields=["tenant", "email"]),
            # The delivery sweeper reads only the few invitations still owed.
            models.Index(
                fields=["created_at"],
                name="invitation_email_owed_idx",
                condition=models.Q(
                    email_sent_at__isnull=True, accepted_at__isnull=True, revoked_at__isnull=True
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"Invitation of {self.email} to {self.tenant_id}"

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None

    def expires_at(self) -> Any:
        from django.conf import settings

        return self.created_at + settings.INVITATION_MAX_AGE

    def is_expired(self, now: Any = None) -> bool:
        return (now or timezone.now()) >= self.expires_at()


# --- API tokens ----------------------------------------------------------------------

# What an API token may be allowed to do, by scope name. Apps register
# theirs with ``register_api_scope`` first thing in their ``AppConfig.ready``,
# before anything imports their API module (whose viewsets name the scopes).
API_SCOPES: dict[str, str] = {}


def register_api_scope(name: str, description: str) -> None:
    """Make a scope known to tokens, forms and viewset permission maps."""
    if API_SCOPES.get(name, description) != description:
        raise ValueError(f"API scope {name!r} is registered already with another meaning")
    API_SCOPES[name] = description


API_TOKEN_PREFIX = "sd_"  # noqa: S105 - marks secrets for scanners; not one itself
# Enough of the secret to tell tokens apart in a list; far too little to guess the rest.
API_TOKEN_SHOWN_CHARS = 8


def new_api_token_secret() -> str:
    """A fresh secret: the recognisable prefix and 256 random bits."""
    return API_TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_api_token(secret: str) -> str:
    """What is stored of a secret. A plain SHA-256 suffices: the secret is
    random and long, so there is nothing for a slow hash to protect."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


class ApiToken(TenantOwned):
    """A secret that lets an integration call the API as one member of one
    tenant, limited to ``scopes`` (the member's role still applies).

    Only the secret's hash is stored; the secret is shown once, at creation.
    A token stops working when revoked, when expired, and while its member,
    user or tenant is deactivated.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=API_TOKEN_SHOWN_CHARS)
    # Unique across tenants: a request names its token before anyone knows its tenant.
    key_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    # Set by ``services.api_token_authenticate``: the owner's active membership
    # in the token's tenant, as found when the token was presented.
    membership: Membership | None = None

    class Meta:
        ordering: ClassVar = ["-created_at"]
        indexes: ClassVar = [
            models.Index(fields=["tenant", "-created_at"]),
            models.Index(fields=["tenant", "prefix"]),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    def is_usable(self, now: datetime | None = None) -> bool:
        """Not revoked and not expired (membership and tenant are checked apart)."""
        return self.revoked_at is None and not self.is_expired(now)

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.is_expired() else "active"

    def scope_labels(self) -> list[str]:
        return [API_SCOPES.get(scope, scope) for scope in self.scopes]


# How the audit log names each action; apps register theirs with
# ``register_audit_labels`` from their ``AppConfig.ready``.
AUDIT_ACTION_LABELS = {
    "api_token.created": "API token created",
    "api_token.revoked": "API token revoked",
    "invitation.created": "Invitation sent",
    "invitation.resent": "Invitation sent again",
    "invitation.revoked": "Invitation withdrawn",
    "invitation.accepted": "Invitation accepted",
    "membership.role_changed": "Role changed",
    "membership.deactivated": "Member deactivated",
    "membership.reactivated": "Member reactivated",
    "team.created": "Team created",
    "team.updated": "Team changed",
    "team.member_added": "Added to team",
    "team.member_removed": "Removed from team",
    "team.lead_set": "Team lead set",
    "tenant.updated": "Organisation settings changed",
}


def register_audit_labels(labels: dict[str, str]) -> None:
    """Name an app's audit actions in the audit log."""
    for action, label in labels.items():
        if AUDIT_ACTION_LABELS.get(action, label) != label:
            raise ValueError(f"Audit action {action!r} is registered already with another label")
        AUDIT_ACTION_LABELS[action] = label


class AuditEvent(TenantOwned):
    """Append-only record of an administrative change in a tenant
    (members, roles, teams, invitations). Nothing edits or deletes these."""

    actor = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=64)
    target = models.CharField(max_length=255, help_text="What was acted on, as shown to admins.")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes: ClassVar = [models.Index(fields=["tenant", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.action} {self.target}"

    @property
    def label(self) -> str:
        """The action as an admin reads it; the code stays the stable key."""
        return AUDIT_ACTION_LABELS.get(self.action, self.action)

    @property
    def details(self) -> str:
        """The change's data as one line: ``role: agent → lead``, ``user: x``."""
        parts = []
        for key, value in self.data.items():
            if isinstance(value, list) and len(value) == 2:
                parts.append(f"{key}: {value[0]} → {value[1]}")
            elif key in {"old", "new"}:
                continue
            else:
                parts.append(f"{key}: {value}")
        if "old" in self.data or "new" in self.data:
            parts.insert(0, f"{self.data.get('old') or '—'} → {self.data.get('new') or '—'}")
        return "; ".join(parts)
