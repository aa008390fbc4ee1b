"""Writes of the tenancy core: invitations, memberships, teams, API tokens.

Each service runs in one transaction, enforces its rules (raising
``ValidationError`` with field messages), records an ``AuditEvent`` and
schedules side effects after commit.
"""

from __future__ import annotations

import hmac
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from smtplib import SMTPException
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify

from servicedesk.links import absolute_reverse
from servicedesk.models import (
    API_SCOPES,
    API_TOKEN_PREFIX,
    API_TOKEN_SHOWN_CHARS,
    ApiToken,
    AuditEvent,
    Invitation,
    Membership,
    Role,
    Team,
    Tenant,
    User,
    hash_api_token,
    new_api_token_secret,
    validate_timezone,
)

logger = logging.getLogger(__name__)

INVITATION_SALT = "servicedesk.invitation"


def audit_record(
    *, tenant: Tenant, actor: User | None, action: str, target: str, **data: Any
) -> AuditEvent:
    return AuditEvent.objects.create(
        tenant=tenant, actor=actor, action=action, target=target[:255], data=data
    )


# --- People --------------------------------------------------------------------------


def user_update_profile(*, user: User, full_name: str) -> User:
    """A person changes how their name is shown (e-mail stays the login)."""
    full_name = full_name.strip()
    if not full_name:
        raise ValidationError({"full_name": "Tell us your name."})
    if user.full_name != full_name:
        user.full_name = full_name
        user.save(update_fields=["full_name"])
    return user


# --- The tenant itself -------------------------------------------------------------


@transaction.atomic
def tenant_update(*, actor: User, tenant: Tenant, name: str, timezone_name: str) -> Tenant:
    """Rename the organisation or move it to another time zone."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "The organisation needs a name."})
    try:
        validate_timezone(timezone_name)
    except ValidationError as exc:
        raise ValidationError({"timezone": exc.messages}) from exc
    changes = {
        field: [old, new]
        for field, old, new in (
            ("name", tenant.name, name),
            ("timezone", tenant.timezone, timezone_name),
        )
        if old != new
    }
    if not changes:
        return tenant
    tenant.name = name
    tenant.timezone = timezone_name
    tenant.save(update_fields=["name", "timezone"])
    audit_record(tenant=tenant, actor=actor, action="tenant.updated", target=tenant.name, **changes)
    return tenant


# --- Invitations ---------------------------------------------------------------------


def invitation_token(invitation: Invitation) -> str:
    """A signed token naming the invitation; its timestamp bounds its life."""
    return signing.dumps({"i": invitation.pk, "n": invitation.nonce}, salt=INVITATION_SALT)


class InvitationInvalid(Exception):
    """The link cannot be used; ``reason`` is safe to show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def invitation_from_token(token: str) -> Invitation:
    """The pending invitation a token names, or ``InvitationInvalid``.

    A token is refused when its signature is wrong, when it is older than
    ``INVITATION_MAX_AGE``, or when its invitation was accepted or revoked.
    """
    max_age = settings.INVITATION_MAX_AGE
    try:
        payload = signing.loads(token, salt=INVITATION_SALT, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise InvitationInvalid("This invitation link has expired. Ask for a new one.") from exc
    except signing.BadSignature as exc:
        raise InvitationInvalid("This invitation link is not valid.") from exc
    try:
        # Token-addressed: the signature, not the URL, names the tenant.
        invitation = (
            Invitation.objects.unscoped()
            .select_related("tenant")
            .get(pk=payload["i"], nonce=payload["n"])
        )
    except (Invitation.DoesNotExist, KeyError, TypeError) as exc:
        raise InvitationInvalid("This invitation link is not valid.") from exc
    if invitation.accepted_at is not None:
        raise InvitationInvalid("This invitation has already been used.")
    if invitation.revoked_at is not None or not invitation.tenant.is_active:
        raise InvitationInvalid("This invitation has been withdrawn.")
    if invitation.is_expired():
        raise InvitationInvalid("This invitation link has expired. Ask for a new one.")
    return invitation


# An invitation e-mail is tried this often, the n-th retry 2**n minutes after
# the one before; then the admin sees the error and can send it again.
INVITATION_EMAIL_ATTEMPTS = 5


def invitation_accept_url(invitation: Invitation) -> str:
    return absolute_reverse("invitation_accept", args=[invitation_token(invitation)])


def invitation_deliver(*, invitation_id: int, now: datetime | None = None) -> bool:
    """Send the invitation's e-mail if it is still owed; True when sent now.

    Idempotent and safe to run from several workers: the row is locked
    (others skip it) and re-checked. A mail server's refusal is recorded on
    the row, not raised; the sweeper tries again later.
    """
    now = now or timezone.now()
    with transaction.atomic():
        invitation = (
            # Platform work: the sweeper delivers for every tenant.
            Invitation.objects.unscoped()
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("tenant", "invited_by")
            .filter(pk=invitation_id)
            .first()
        )
        if (
            invitation is None
            or not invitation.is_pending
            or invitation.email_sent_at is not None
            or invitation.is_expired(now)
        ):
            return False
        invitation.email_attempts += 1
        invitation.email_last_attempt_at = now
        context = {"invitation": invitation, "accept_url": invitation_accept_url(invitation)}
        try:
            send_mail(
                subject=f"You are invited to {invitation.tenant.name} on servicedesk",
                message=render_to_string("servicedesk/email/invitation.txt", context),
                from_email=None,
                recipient_list=[invitation.email],
            )
        except (SMTPException, OSError) as exc:
            invitation.email_error = f"{type(exc).__name__}: {exc}"[:255]
            invitation.save(
                update_fields=["email_attempts", "email_last_attempt_at", "email_error"]
            )
            logger.warning("invitation %s: e-mail not sent: %s", invitation.pk, exc)
            return False
        invitation.email_sent_at = now
        invitation.email_error = ""
        invitation.save(
            update_fields=[
                "email_attempts",
                "email_last_attempt_at",
                "email_sent_at",
                "email_error",
            ]
        )
        return True


def invitations_owed(*, now: datetime | None = None) -> list[int]:
    """Ids of pending invitations whose e-mail is owed and due for a try."""
    now = now or timezone.now()
    candidates = (
        Invitation.objects.unscoped()
        .filter(
            email_sent_at__isnull=True,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            created_at__gt=now - settings.INVITATION_MAX_AGE,
            email_attempts__lt=INVITATION_EMAIL_ATTEMPTS,
        )
        .values_list("pk", "email_attempts", "email_last_attempt_at")
    )
    return [
        pk
        for pk, attempts, last in candidates
        if last is None or now >= last + timedelta(minutes=2**attempts)
    ]


@transaction.atomic
def invitation_create(*, tenant: Tenant, actor: User, email: str, role: str) -> Invitation:
    """Invite ``email`` to the tenant with ``role``.

    A pending invitation for the same address is revoked and replaced, so only
    the newest link works. The new row owes its e-mail; ``invitation_deliver``
    (right away from the view, else from the sweeper) sends it.
    """
    email = User.objects.normalize_email(email).strip().lower()
    if role not in Role.values:
        raise ValidationError({"role": "Choose a valid role."})
    if Membership.objects.for_tenant(tenant).filter(user__email__iexact=email).exists():
        raise ValidationError(
            {"email": "This person is already a member; change their role or reactivate them."}
        )
    now = timezone.now()
    Invitation.objects.for_tenant(tenant).filter(
        email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=now)
    invitation = Invitation.objects.create(
        tenant=tenant, email=email, role=role, invited_by=actor, created_at=now
    )
    audit_record(tenant=tenant, actor=actor, action="invitation.created", target=email, role=role)
    return invitation


@transaction.atomic
def invitation_resend(*, actor: User, invitation: Invitation) -> Invitation:
    """Owe the invitation's e-mail again, with a fresh count of attempts."""
    invitation = (
        Invitation.objects.for_tenant(invitation.tenant_id)
        .select_for_update()
        .select_related("tenant")
        .get(pk=invitation.pk)
    )
    if not invitation.is_pending:
        raise ValidationError("Only a pending invitation can be sent again.")
    if invitation.is_expired():
        raise ValidationError("This invitation has expired; invite the person again.")
    invitation.email_sent_at = None
    invitation.email_attempts = 0
    invitation.email_last_attempt_at = None
    invitation.email_error = ""
    invitation.save(
        update_fields=["email_sent_at", "email_attempts", "email_last_attempt_at", "email_error"]
    )
    audit_record(
        tenant=invitation.tenant, actor=actor, action="invitation.resent", target=invitation.email
    )
    return invitation


@transaction.atomic
def invitation_revoke(*, actor: User, invitation: Invitation) -> Invitation:
    invitation = (
        Invitation.objects.for_tenant(invitation.tenant_id)
        .select_for_update()
        .get(pk=invitation.pk)
    )
    if not invitation.is_pending:
        raise ValidationError("Only a pending invitation can be withdrawn.")
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit_record(
        tenant=invitation.tenant, actor=actor, action="invitation.revoked", target=invitation.email
    )
    return invitation


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    """Turn the invitation into a membership of ``user``, exactly once.

    The row is locked and re-checked, so two clicks on the same link (or two
    tabs) cannot both succeed.
    """
    locked = (
        Invitation.objects.for_tenant(invitation.tenant_id)
        .select_for_update()
        .select_related("tenant")
        .get(pk=invitation.pk)
    )
    if not locked.is_pending:
        raise InvitationInvalid("This invitation has already been used.")
    if locked.is_expired():
        raise InvitationInvalid("This invitation link has expired. Ask for a new one.")
    if user.email.lower() != locked.email.lower():
        raise InvitationInvalid(
            f"This invitation is for {locked.email}; sign in with that address to accept it."
        )
    membership, created = Membership.objects.for_tenant(locked.tenant).get_or_create(
        tenant=locked.tenant, user=user, defaults={"role": locked.role}
    )
    if not created:
        membership.role = locked.role
        membership.is_active = True
        membership.deactivated_at = None
        membership.save(update_fields=["role", "is_active", "deactivated_at"])
    locked.accepted_at = timezone.now()
    locked.accepted_by = user
    locked.save(update_fields=["accepted_at", "accepted_by"])
    audit_record(
        tenant=locked.tenant,
        actor=user,
        action="invitation.accepted",
        target=user.email,
        role=locked.role,
    )
    return membership


@dataclass(frozen=True)
class NewAccount:
    full_name: str
    password: str


@transaction.atomic
def invitation_accept_new_user(*, invitation: Invitation, account: NewAccount) -> Membership:
    """Create the invited person's account and accept the invitation."""
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email=invitation.email, password=account.password, full_name=account.full_name
            )
    except IntegrityError as exc:
        raise InvitationInvalid(
            "An account with this address exists already; sign in to accept the invitation."
        ) from exc
    return invitation_accept(invitation=invitation, user=user)


def invitations_purge_stale(*, now: datetime | None = None, keep_days: int = 30) -> int:
    """Delete never-accepted invitations that expired over ``keep_days`` ago.

    Platform housekeeping over all tenants, run by Celery beat.
    """
    now = now or timezone.now()
    cutoff = now - settings.INVITATION_MAX_AGE - timedelta(days=keep_days)
    deleted, _ = (
        Invitation.objects.unscoped()
        .filter(accepted_at__isnull=True, created_at__lt=cutoff)
        .delete()
    )
    return deleted


# --- Memberships ------------------------------------------------------------------------


def _other_active_admins(membership: Membership) -> bool:
    return (
        Membership.objects.for_tenant(membership.tenant_id)
        .filter(role=Role.ADMIN, is_active=True)
        .exclude(pk=membership.pk)
        .exists()
    )


@transaction.atomic
def membership_change_role(*, actor: User, membership: Membership, role: str) -> Membership:
    if role not in Role.values:
        raise ValidationError({"role": "Choose a valid role."})
    membership = (
        Membership.objects.for_tenant(membership.tenant_id)
        .select_for_update()
        .select_related("user", "tenant")
        .get(pk=membership.pk)
    )
    if membership.role == role:
        return membership
    if membership.role == Role.ADMIN and not _other_active_admins(membership):
        raise ValidationError({"role": "The tenant needs at least one active admin."})
    old = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    if role == Role.REQUESTER:
        _leave_all_teams(membership)
    audit_record(
        tenant=membership.tenant,
        actor=actor,
        action="membership.role_changed",
        target=membership.user.email,
        old=old,
        new=role,
    )
    return membership


def _leave_all_teams(membership: Membership) -> None:
    teams = Team.objects.for_tenant(membership.tenant_id)
    teams.filter(lead=membership.user).update(lead=None)
    Team.members.through.objects.filter(team__in=teams.values("pk"), user=membership.user).delete()


@transaction.atomic
def membership_deactivate(*, actor: User, membership: Membership) -> Membership:
    """Shut a member out of the tenant; their history stays, their teams go."""
    membership = (
        Membership.objects.for_tenant(membership.tenant_id)
        .select_for_update()
        .select_related("user", "tenant")
        .get(pk=membership.pk)
    )
    if not membership.is_active:
        return membership
    if membership.user_id == actor.pk:
        raise ValidationError("You cannot deactivate yourself.")
    if membership.role == Role.ADMIN and not _other_active_admins(membership):
        raise ValidationError("The tenant needs at least one active admin.")
    membership.is_active = False
    membership.deactivated_at = timezone.now()
    membership.save(update_fields=["is_active", "deactivated_at"])
    _leave_all_teams(membership)
    audit_record(
        tenant=membership.tenant,
        actor=actor,
        action="membership.deactivated",
        target=membership.user.email,
    )
    return membership


@transaction.atomic
def membership_reactivate(*, actor: User, membership: Membership) -> Membership:
    membership = (
        Membership.objects.for_tenant(membership.tenant_id)
        .select_for_update()
        .select_related("user", "tenant")
        .get(pk=membership.pk)
    )
    if membership.is_active:
        return membership
    membership.is_active = True
    membership.deactivated_at = None
    membership.save(update_fields=["is_active", "deactivated_at"])
    audit_record(
        tenant=membership.tenant,
        actor=actor,
        action="membership.reactivated",
        target=membership.user.email,
    )
    return membership


# --- Teams --------------------------------------------------------------------------------


def _require_staff(tenant: Tenant | int, user: User, field: str) -> None:
    is_staff = (
        Membership.objects.for_tenant(tenant)
        .filter(user=user, is_active=True, role__in=[Role.AGENT, Role.LEAD, Role.ADMIN])
        .exists()
    )
    if not is_staff:
        raise ValidationError({field: "Only active agents, leads and admins can be on a team."})


@transaction.atomic
def team_create(
    *, tenant: Tenant, actor: User, name: str, slug: str = "", description: str = ""
) -> Team:
    name = name.strip()
    slug = slugify(slug or name)[:50]
    if not name:
        raise ValidationError({"name": "A team needs a name."})
    if not slug:
        raise ValidationError({"slug": "Use letters or digits in the short name."})
    teams = Team.objects.for_tenant(tenant)
    if teams.filter(slug=slug).exists():
        raise ValidationError({"slug": f"A team with the short name “{slug}” exists already."})
    if teams.filter(name__iexact=name).exists():
        raise ValidationError({"name": f"A team named “{name}” exists already."})
    team = Team.objects.create(tenant=tenant, name=name, slug=slug, description=description)
    audit_record(tenant=tenant, actor=actor, action="team.created", target=team.name)
    return team


@transaction.atomic
def team_update(*, actor: User, team: Team, name: str, description: str) -> Team:
    name = name.strip()
    if not name:
        raise ValidationError({"name": "A team needs a name."})
    clash = (
        Team.objects.for_tenant(team.tenant_id)
        .filter(name__iexact=name)
        .exclude(pk=team.pk)
        .exists()
    )
    if clash:
        raise ValidationError({"name": f"A team named “{name}” exists already."})
    changes: dict[str, Any] = {}
    if team.name != name:
        changes["name"] = [team.name, name]
    if team.description != description:
        changes["description"] = "changed"
    team.name = name
    team.description = description
    team.save(update_fields=["name", "description"])
    if changes:
        audit_record(
            tenant=team.tenant, actor=actor, action="team.updated", target=team.name, **changes
        )
    return team


@transaction.atomic
def team_add_member(*, actor: User, team: Team, user: User) -> Team:
    _require_staff(team.tenant_id, user, "user")
    if not team.members.filter(pk=user.pk).exists():
        team.members.add(user)
        audit_record(
            tenant=team.tenant,
            actor=actor,
            action="team.member_added",
            target=team.name,
            user=user.email,
        )
    return team


@transaction.atomic
def team_remove_member(*, actor: User, team: Team, user: User) -> Team:
    if team.lead_id == user.pk:
        team.lead = None
        team.save(update_fields=["lead"])
    if team.members.filter(pk=user.pk).exists():
        team.members.remove(user)
        audit_record(
            tenant=team.tenant,
            actor=actor,
            action="team.member_removed",
            target=team.name,
            user=user.email,
        )
    return team


@transaction.atomic
def team_set_lead(*, actor: User, team: Team, user: User | None) -> Team:
    """Make ``user`` the team's lead (joining them to the team), or clear it."""
    if user is not None:
        _require_staff(team.tenant_id, user, "lead")
        team.members.add(user)
    old = team.lead.email if team.lead else None
    team.lead = user
    team.save(update_fields=["lead"])
    audit_record(
        tenant=team.tenant,
        actor=actor,
        action="team.lead_set",
        target=team.name,
        old=old,
        new=user.email if user else None,
    )
    return team


# --- API tokens ------------------------------------------------------------------------

# What a presented secret must look like before it is worth a database query.
_API_TOKEN_FORMAT = re.compile(re.escape(API_TOKEN_PREFIX) + r"[A-Za-z0-9_-]{20,100}")
# ``last_used_at`` is written at most this often per token: a busy integration
# would otherwise turn every read into a write.
API_TOKEN_LAST_USED_RESOLUTION = timedelta(minutes=1)
API_TOKEN_NAME_MAX_LENGTH = 100


@transaction.atomic
def api_token_create(
    *,
    tenant: Tenant,
    actor: User | None,
    user: User,
    name: str,
    scopes: list[str],
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Issue a token that lets ``user`` call the API in ``tenant`` within ``scopes``.

    Returns the token and its secret. The secret is not stored (only its
    hash) and cannot be shown again. ``actor`` is None when an operator
    issues it from the command line.
    """
    errors: dict[str, str] = {}
    name = name.strip()
    if not name:
        errors["name"] = "Name the token after what will use it."
    elif len(name) > API_TOKEN_NAME_MAX_LENGTH or "\x00" in name:
        errors["name"] = "Use up to 100 printable characters."
    wanted = sorted({scopes} if isinstance(scopes, str) else set(scopes))
    unknown = [scope for scope in wanted if scope not in API_SCOPES]
    if unknown:
        errors["scopes"] = f"Unknown scope: {', '.join(unknown)}. Known: {', '.join(API_SCOPES)}."
    elif not wanted:
        errors["scopes"] = "Choose at least one scope."
    is_member = (
        user.is_active
        and Membership.objects.for_tenant(tenant).filter(user=user, is_active=True).exists()
    )
    if not is_member:
        errors["user"] = "The token's owner must be an active member of this organisation."
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = "The expiry must lie in the future."
    if not tenant.is_active:
        errors[NON_FIELD_ERRORS] = "This organisation is deactivated."
    if errors:
        raise ValidationError(errors)
    secret = new_api_token_secret()
    token = ApiToken.objects.create(
        tenant=tenant,
        user=user,
        name=name,
        prefix=secret[:API_TOKEN_SHOWN_CHARS],
        key_hash=hash_api_token(secret),
        scopes=wanted,
        created_by=actor,
        expires_at=expires_at,
    )
    audit_record(
        tenant=tenant,
        actor=actor,
        action="api_token.created",
        target=name,
        user=user.email,
        # One string: a two-item list would read as "old → new" in the audit trail.
        scopes=", ".join(wanted),
        expires=expires_at.isoformat() if expires_at else "never",
    )
    return token, secret


@transaction.atomic
def api_token_revoke(*, actor: User | None, token: ApiToken) -> ApiToken:
    """Stop a token from working, for good. Revoking it again changes nothing."""
    token = (
        ApiToken.objects.for_tenant(token.tenant_id)
        .select_for_update()
        .select_related("tenant", "user")
        .get(pk=token.pk)
    )
    if token.revoked_at is not None:
        return token
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_record(
        tenant=token.tenant,
        actor=actor,
        action="api_token.revoked",
        target=token.name,
        user=token.user.email,
    )
    return token


def api_token_authenticate(raw: str, *, now: datetime | None = None) -> ApiToken | None:
    """The usable token whose secret is ``raw``, with ``membership`` set; else None.

    Refused alike (None, nothing said about why): malformed, unknown, revoked
    and expired tokens, and tokens whose user, membership or tenant is
    inactive. The secret is looked up by its hash, so response times tell an
    attacker at most something about a hash, never about a stored secret.
    """
    if not isinstance(raw, str) or not _API_TOKEN_FORMAT.fullmatch(raw):
        return None
    now = now or timezone.now()
    digest = hash_api_token(raw)
    token = (
        # Token-addressed: the secret, not the URL, names the tenant.
        ApiToken.objects.unscoped().select_related("tenant", "user").filter(key_hash=digest).first()
    )
    if token is None or not hmac.compare_digest(token.key_hash, digest):
        return None
    if not (token.is_usable(now) and token.tenant.is_active and token.user.is_active):
        return None
    membership = (
        Membership.objects.for_tenant(token.tenant_id)
        .filter(user_id=token.user_id, is_active=True)
        .first()
    )
    if membership is None:
        return None
    membership.tenant = token.tenant
    membership.user = token.user
    token.membership = membership
    if token.last_used_at is None or now - token.last_used_at >= API_TOKEN_LAST_USED_RESOLUTION:
        ApiToken.objects.for_tenant(token.tenant_id).filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
