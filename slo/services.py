"""SLA writes: calendars and policies, the clocks of tickets (kept in step
with each ticket's event log), replay, and the sweeper that marks warnings
and breaches and queues escalations.

Ticket services call ``clocks_sync`` after they record events; escalations
themselves run in ``slo.escalations`` (they change tickets through the
tickets services, which call back here).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from servicedesk.models import Membership, Role, Team, User
from servicedesk.services import audit_record
from slo import business_time, engine
from slo.models import (
    Calendar,
    Clock,
    Escalation,
    EscalationAction,
    EscalationRun,
    Policy,
    Target,
    Trigger,
)
from slo.rules import SLA_ACTION, calendar_schedule, tenant_rules, ticket_sla_inputs
from tickets.models import (
    ActorKind,
    Category,
    Priority,
    Status,
    Tag,
    Ticket,
    TicketEvent,
    TicketKind,
)

SLA_ACTOR = "SLA"
_TRACKED = tuple(engine.CLOCK_FIELDS)


# --- Clocks: stored rows <-> engine records -------------------------------------------------


def _record_of(clock: Clock) -> engine.ClockRecord:
    return engine.ClockRecord(**{name: getattr(clock, name) for name in _TRACKED})


def _clock_values(record: engine.ClockRecord) -> dict[str, Any]:
    return {name: getattr(record, name) for name in _TRACKED}


def _sweep_at(clock: Clock) -> datetime | None:
    """When the sweeper must next look at the clock: its unhandled warning
    or breach, while it counts."""
    if clock.running_since is None:
        return None
    moments = []
    if not clock.warning_handled and clock.warn_at is not None:
        moments.append(clock.warn_at)
    if not clock.breach_handled and clock.due_at is not None:
        moments.append(clock.due_at)
    return min(moments) if moments else None


def _apply(clock: Clock, record: engine.ClockRecord) -> None:
    if clock.cycle != record.cycle:
        clock.warning_handled = clock.breach_handled = False
    for name, value in _clock_values(record).items():
        setattr(clock, name, value)
    # A lifted warning or breach may be reached again, and then handled again.
    clock.warning_handled = clock.warning_handled and clock.warned_at is not None
    clock.breach_handled = clock.breach_handled and clock.breached_at is not None
    clock.sweep_at = _sweep_at(clock)


CHANGE_TEXT = {
    "started": "started",
    "paused": "paused",
    "resumed": "resumed",
    "warning": "warning threshold reached",
    "breached": "breached",
    "met": "met",
    "cancelled": "cancelled",
    "retargeted": "re-targeted",
    "recomputed": "recomputed",
    "escalated": "escalated",
}


def sla_event(
    ticket: Ticket | int,
    tenant_id: int,
    target: str,
    what: str,
    at: datetime,
    *,
    note: str = "",
    old: str = "",
    new: str = "",
) -> TicketEvent:
    """An SLA entry of the ticket's audit trail (not saved)."""
    return TicketEvent(
        tenant_id=tenant_id,
        ticket_id=ticket if isinstance(ticket, int) else ticket.pk,
        actor=None,
        actor_kind=ActorKind.SYSTEM,
        actor_name=SLA_ACTOR,
        action=SLA_ACTION,
        field=target,
        old_value=old,
        new_value=new or what,
        note=note[:2000],
        created_at=at,
    )


def _save_clocks(
    ticket: Ticket,
    stored: Mapping[str, Clock],
    clocks: engine.Clocks,
    event_id: int,
) -> list[Clock]:
    """Write the records that differ from their rows (and new ones)."""
    new_rows = []
    saved = []
    for target, record in clocks.records.items():
        row = stored.get(target)
        if row is None:
            row = Clock(tenant_id=ticket.tenant_id, ticket_id=ticket.pk, target=target)
            _apply(row, record)
            row.event_id = event_id
            new_rows.append(row)
            continue
        before = _clock_values(_record_of(row))
        if before == _clock_values(record) and row.event_id >= event_id:
            continue
        _apply(row, record)
        row.event_id = max(row.event_id, event_id)
        saved.append(row)
    if new_rows:
        Clock.objects.bulk_create(new_rows)
    fields = [*_TRACKED, "event_id", "warning_handled", "breach_handled", "sweep_at"]
    fields = [("policy" if f == "policy_id" else f) for f in fields]
    for row in saved:
        row.save(update_fields=fields)
    return new_rows + saved


def _change_events(ticket: Ticket, changes: Iterable[engine.Change]) -> list[TicketEvent]:
    return [
        sla_event(ticket, ticket.tenant_id, c.target, CHANGE_TEXT[c.what], c.at, note=c.detail)
        for c in changes
    ]


# No savepoint of its own: it runs inside the ticket service's transaction
# and fails with it.
@transaction.atomic(savepoint=False)
def clocks_sync(*, ticket: Ticket, rules: list[engine.Rule] | None = None) -> list[engine.Change]:
    """Fold the ticket's events since its clocks last looked into them, and
    record what changed. Called by every ticket service that records an
    event, inside its transaction, with the ticket locked."""
    stored = {
        clock.target: clock
        for clock in Clock.objects.for_tenant(ticket.tenant_id)
        .select_for_update()
        .filter(ticket_id=ticket.pk)
        .order_by("pk")
    }
    rules = tenant_rules(ticket.tenant_id) if rules is None else rules
    if not rules and not stored:
        return []  # no policy, no clocks: nothing to read the log for
    checkpoint = max((clock.event_id for clock in stored.values()), default=0)
    inputs = ticket_sla_inputs(ticket, rules)
    fresh = [m for m in inputs.history if m.event_id > checkpoint]
    if not fresh:
        return []
    clocks = engine.Clocks(records={t: _record_of(c) for t, c in stored.items()})
    seen = [m for m in inputs.history if m.event_id <= checkpoint]
    if seen:
        clocks.plan = inputs.plan_for(seen[-1].facts)
    changes = engine.fold(clocks, [(m.at, m.facts) for m in fresh], inputs.plan_for)
    if not clocks.records:
        return changes
    _save_clocks(ticket, stored, clocks, fresh[-1].event_id)
    TicketEvent.objects.bulk_create(_change_events(ticket, changes))
    return changes


# --- Replay ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Moved:
    """A clock whose replay differs from what was stored."""

    ticket_key: str
    target: str
    old_state: str
    new_state: str
    old_due: datetime | None
    new_due: datetime | None


def replay(
    ticket: Ticket, *, now: datetime, rules: list[engine.Rule] | None = None
) -> tuple[engine.Clocks, int]:
    """The ticket's clocks computed afresh from its whole event log under
    the current calendars and policies, as of ``now``, and the last event
    folded into them. Writes nothing."""
    inputs = ticket_sla_inputs(ticket, rules)
    clocks = engine.Clocks()
    engine.fold(clocks, [(m.at, m.facts) for m in inputs.history], inputs.plan_for, until=now)
    return clocks, inputs.history[-1].event_id if inputs.history else 0


@transaction.atomic
def clocks_recompute(
    *, ticket: Ticket, now: datetime | None = None, rules: list[engine.Rule] | None = None
) -> list[Moved]:
    """Replay the ticket's clocks and store the result; record on the
    ticket what moved (a holiday added late, a policy edited)."""
    now = now or timezone.now()
    ticket = Ticket.objects.for_tenant(ticket.tenant_id).select_for_update().get(pk=ticket.pk)
    stored = {
        clock.target: clock
        for clock in Clock.objects.for_tenant(ticket.tenant_id)
        .select_for_update()
        .filter(ticket_id=ticket.pk)
        .order_by("pk")
    }
    for clock in stored.values():
        current = _record_of(clock)
        engine.advance(engine.Clocks(records={clock.target: current}), now)
        _apply(clock, current)
    clocks, last_event = replay(ticket, now=now, rules=rules)
    moved: list[Moved] = []
    events = []
    for target in engine.TARGETS:
        row = stored.get(target)
        record = clocks.records.get(target)
        if record is None and row is None:
            continue
        if (
            row is not None
            and record is not None
            and _clock_values(_record_of(row)) == _clock_values(record)
        ):
            continue
        old_state = row.state if row is not None else "none"
        old_due = row.due_at if row is not None else None
        new_state = record.state if record is not None else "none"
        new_due = record.due_at if record is not None else None
        moved.append(Moved(ticket.key, target, old_state, new_state, old_due, new_due))
        events.append(
            sla_event(
                ticket,
                ticket.tenant_id,
                target,
                "recomputed",
                now,
                old=_when(old_state, old_due),
                new=_when(new_state, new_due),
                note="Recomputed under the current calendars and policies.",
            )
        )
        if record is None and row is not None:
            row.delete()
    if moved:
        kept = {t: c for t, c in stored.items() if t in clocks.records}
        _save_clocks(ticket, kept, clocks, last_event)
        TicketEvent.objects.bulk_create(events)
    return moved


def _when(state: str, due: datetime | None) -> str:
    return f"{state}, due {due.isoformat()}" if due else state


def tickets_recompute(
    *, tenant_id: int, since: datetime | None = None, now: datetime | None = None
) -> tuple[int, list[Moved]]:
    """Replay the clocks of a tenant's tickets (those created or updated
    since ``since``; all by default). Each ticket in its own transaction."""
    now = now or timezone.now()
    rules = tenant_rules(tenant_id)
    tickets = Ticket.objects.for_tenant(tenant_id).order_by("pk")
    if since is not None:
        tickets = tickets.filter(updated_at__gte=since)
    count = 0
    moved: list[Moved] = []
    for ticket in tickets.iterator(chunk_size=500):
        count += 1
        moved += clocks_recompute(ticket=ticket, now=now, rules=rules)
    return count, moved


# --- The sweeper -----------------------------------------------------------------------------


@dataclass
class SweepResult:
    clocks: int = 0
    warnings: int = 0
    breaches: int = 0
    escalations: int = 0
    tenants: set[int] = field(default_factory=set)


def clocks_sweep(*, now: datetime | None = None, batch: int = 1000) -> SweepResult:
    """Mark the warnings and breaches that are due, across tenants, and
    queue their escalations; ``batch`` clocks per call.

    Clocks are locked with SKIP LOCKED, so two sweepers share the work and
    a clock a ticket service is changing waits for the next sweep; once
    handled, a clock's ``sweep_at`` moves on, so a second sweep finds
    nothing. The escalation runs' unique key is the backstop."""
    now = now or timezone.now()
    result = SweepResult()
    with transaction.atomic():
        due = list(
            Clock.objects.unscoped()
            .select_for_update(skip_locked=True)
            .filter(sweep_at__lte=now)
            .order_by("sweep_at")[:batch]
        )
        if not due:
            return result
        events: list[TicketEvent] = []
        fired: list[tuple[Clock, str]] = []
        for clock in due:
            record = _record_of(clock)
            changes = engine.advance(engine.Clocks(records={clock.target: record}), now)
            _apply(clock, record)
            events += [
                sla_event(clock.ticket_id, clock.tenant_id, c.target, CHANGE_TEXT[c.what], c.at)
                for c in changes
            ]
            if clock.warned_at is not None and not clock.warning_handled:
                clock.warning_handled = True
                result.warnings += 1
                fired.append((clock, Trigger.WARNING))
            if clock.breached_at is not None and not clock.breach_handled:
                clock.breach_handled = True
                result.breaches += 1
                fired.append((clock, Trigger.BREACH))
            clock.sweep_at = _sweep_at(clock)
            result.tenants.add(clock.tenant_id)
        _write_swept(due)
        TicketEvent.objects.unscoped().bulk_create(events)
        runs = _escalation_runs(fired, now)
        EscalationRun.objects.unscoped().bulk_create(runs)
        result.clocks = len(due)
        result.escalations = len(runs)
    return result


def _as_column(clock: Clock, value: datetime | None) -> datetime | F | None:
    """An instant the sweep copied from the clock's own warning or due time,
    as that column: so that most swept clocks share one outcome."""
    if value is not None and value == clock.warn_at:
        return F("warn_at")
    if value is not None and value == clock.due_at:
        return F("due_at")
    return value


def _write_swept(clocks: list[Clock]) -> None:
    """Store what the sweep marked with one UPDATE per outcome (warned;
    warned and breached; breached…), a handful for any batch. Django's
    ``bulk_update`` would build a CASE of a thousand branches per column,
    which took 90 % of a sweep's time."""
    outcomes: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for clock in clocks:
        outcome = (
            _as_column(clock, clock.warned_at),
            _as_column(clock, clock.breached_at),
            clock.state,
            clock.warning_handled,
            clock.breach_handled,
            _as_column(clock, clock.sweep_at),
        )
        outcomes[outcome].append(clock.pk)
    for (warned, breached, state, warning_done, breach_done, sweep), ids in outcomes.items():
        Clock.objects.unscoped().filter(pk__in=ids).update(
            warned_at=warned,
            breached_at=breached,
            state=state,
            warning_handled=warning_done,
            breach_handled=breach_done,
            sweep_at=sweep,
        )


def _escalation_runs(fired: list[tuple[Clock, str]], now: datetime) -> list[EscalationRun]:
    policy_ids = {clock.policy_id for clock, _ in fired if clock.policy_id is not None}
    if not policy_ids:
        return []
    by_policy: dict[int, list[Escalation]] = defaultdict(list)
    for escalation in Escalation.objects.unscoped().filter(policy_id__in=policy_ids).order_by("pk"):
        by_policy[escalation.policy_id].append(escalation)
    runs = []
    for clock, trigger in fired:
        for escalation in by_policy.get(clock.policy_id or 0, ()):
            if escalation.trigger != trigger:
                continue
            if escalation.target and escalation.target != clock.target:
                continue
            runs.append(
                EscalationRun(
                    tenant_id=clock.tenant_id,
                    clock=clock,
                    escalation=escalation,
                    cycle=clock.cycle,
                    trigger=trigger,
                    fired_at=now,
                )
            )
    return runs


# --- Calendars and policies (tenant admin) ----------------------------------------------------


def _require_admin(actor: Membership) -> None:
    if not actor.has_role(Role.ADMIN):
        raise PermissionDenied("Only tenant admins can change SLA settings.")


def _clean_name(name: Any, field_name: str = "name") -> str:
    text = " ".join(str(name or "").split())
    if not text:
        raise ValidationError({field_name: "Give it a name."})
    if len(text) > 100:
        raise ValidationError({field_name: "At most 100 characters."})
    return text


def clean_calendar(*, name: Any, timezone_name: Any, hours: Any, holidays: Any) -> dict[str, Any]:
    """Validate a calendar in its data form; every problem at once."""
    errors: dict[str, Any] = {}
    try:
        clean_name = _clean_name(name)
    except ValidationError as error:
        errors.update(error.message_dict)
        clean_name = ""
    try:
        schedule = business_time.build_calendar(timezone_name, hours, holidays)
        # Clocks count on it from the day it is saved: holidays may not close
        # it for longer than a due time is ever searched for.
        business_time.next_opening(schedule, timezone.now())
    except ValidationError as error:
        errors.update(error.message_dict)
        schedule = None
    except business_time.CalendarNeverOpens:
        errors["holidays"] = ["These holidays leave no working time in the next three years."]
        schedule = None
    if errors or schedule is None:
        raise ValidationError(errors)
    return {
        "name": clean_name,
        "timezone": str(timezone_name),
        "hours": business_time.week_as_json(schedule.week),
        "holidays": [h.as_json() for h in schedule.holidays],
    }


def _unique_name(
    model: type[Calendar] | type[Policy], tenant_id: int, name: str, pk: int | None
) -> None:
    taken = model.objects.for_tenant(tenant_id).filter(name=name).exclude(pk=pk).exists()
    if taken:
        raise ValidationError({"name": f"There is already one named “{name}”."})


@transaction.atomic
def calendar_create(
    *, actor: Membership, name: Any, timezone_name: Any, hours: Any, holidays: Any = None
) -> Calendar:
    _require_admin(actor)
    values = clean_calendar(name=name, timezone_name=timezone_name, hours=hours, holidays=holidays)
    _unique_name(Calendar, actor.tenant_id, values["name"], None)
    calendar = Calendar.objects.create(tenant_id=actor.tenant_id, **values)
    audit_record(
        tenant=actor.tenant,
        actor=actor.user,
        action="sla.calendar_created",
        target=calendar.name,
    )
    return calendar


@transaction.atomic
def calendar_update(
    *,
    actor: Membership,
    calendar: Calendar,
    name: Any,
    timezone_name: Any,
    hours: Any,
    holidays: Any = None,
) -> Calendar:
    """Replace a calendar's definition. Running clocks keep their due times
    until their next event or ``recompute_sla``."""
    _require_admin(actor)
    if calendar.tenant_id != actor.tenant_id:
        raise PermissionDenied("Not a calendar of this tenant.")
    values = clean_calendar(name=name, timezone_name=timezone_name, hours=hours, holidays=holidays)
    _unique_name(Calendar, actor.tenant_id, values["name"], calendar.pk)
    for key, value in values.items():
        setattr(calendar, key, value)
    calendar.updated_at = timezone.now()
    calendar.save()
    audit_record(
        tenant=actor.tenant, actor=actor.user, action="sla.calendar_changed", target=calendar.name
    )
    return calendar


@transaction.atomic
def calendar_delete(*, actor: Membership, calendar: Calendar) -> None:
    _require_admin(actor)
    if calendar.tenant_id != actor.tenant_id:
        raise PermissionDenied("Not a calendar of this tenant.")
    users = list(
        Policy.objects.for_tenant(actor.tenant_id)
        .filter(calendar=calendar)
        .values_list("name", flat=True)
    )
    if users:
        raise ValidationError(
            {"calendar": f"Policies use this calendar: {', '.join(users)}. Change them first."}
        )
    audit_record(
        tenant=actor.tenant, actor=actor.user, action="sla.calendar_deleted", target=calendar.name
    )
    calendar.delete()


POLICY_FIELDS = (
    "name",
    "is_active",
    "kinds",
    "priorities",
    "team",
    "category",
    "tag",
    "requester_organisation",
    "vip_only",
    "calendar",
    "first_response_minutes",
    "next_response_minutes",
    "resolution_minutes",
    "warning_percent",
    "pause_statuses",
)
MAX_TARGET_MINUTES = 366 * 24 * 60


def clean_policy(tenant_id: int, values: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a policy's fields; every problem at once."""
    errors: dict[str, list[str]] = defaultdict(list)
    unknown = set(values) - set(POLICY_FIELDS)
    for name in sorted(unknown):
        errors[name].append("Unknown field.")
    clean: dict[str, Any] = {}
    try:
        clean["name"] = _clean_name(values.get("name"))
    except ValidationError as error:
        errors["name"] += error.message_dict["name"]
    clean["is_active"] = bool(values.get("is_active", True))
    kinds = values.get("kinds") or []
    if not isinstance(kinds, list | tuple) or any(k not in TicketKind.values for k in kinds):
        errors["kinds"].append(f"Choose kinds from: {', '.join(TicketKind.values)}.")
    else:
        clean["kinds"] = sorted(set(kinds))
    priorities = values.get("priorities") or []
    try:
        parsed = sorted({int(p) for p in priorities})
    except (TypeError, ValueError):
        parsed = [0]
    if not isinstance(priorities, list | tuple) or any(p not in Priority.values for p in parsed):
        errors["priorities"].append("Choose priorities from 1 to 5.")
    else:
        clean["priorities"] = parsed
    for name, model in (
        ("team", Team),
        ("category", Category),
        ("tag", Tag),
        ("calendar", Calendar),
    ):
        value = values.get(name)
        if value in (None, ""):
            clean[name] = None
            continue
        if isinstance(value, model):
            if value.tenant_id != tenant_id:
                errors[name].append("Not found.")
            clean[name] = value
            continue
        errors[name].append("Not found.")
    clean["requester_organisation"] = " ".join(
        str(values.get("requester_organisation") or "").split()
    )[:100]
    clean["vip_only"] = bool(values.get("vip_only", False))
    any_target = False
    for target in engine.TARGETS:
        key = f"{target}_minutes"
        value = values.get(key)
        if value in (None, ""):
            clean[key] = None
            continue
        try:
            minutes = int(value)
        except (TypeError, ValueError):
            errors[key].append("Give whole minutes.")
            continue
        if not 1 <= minutes <= MAX_TARGET_MINUTES:
            errors[key].append("Between 1 minute and 366 days.")
            continue
        clean[key] = minutes
        any_target = True
    if not any_target and not any(f"{t}_minutes" in errors for t in engine.TARGETS):
        errors["resolution_minutes"].append("Set at least one target.")
    try:
        warning = int(values.get("warning_percent", 80))
    except (TypeError, ValueError):
        warning = 0
    if not 1 <= warning <= 99:
        errors["warning_percent"].append("Between 1 and 99 percent.")
    clean["warning_percent"] = warning
    pauses = values.get("pause_statuses", ["pending"])
    allowed = {Status.PENDING, Status.KNOWN_ERROR}
    if not isinstance(pauses, list | tuple) or any(p not in allowed for p in pauses):
        errors["pause_statuses"].append("Pausing statuses are: pending, known_error.")
    else:
        clean["pause_statuses"] = sorted(set(pauses))
    if errors:
        raise ValidationError(dict(errors))
    return clean


@transaction.atomic
def policy_create(*, actor: Membership, **values: Any) -> Policy:
    """A new policy, placed last."""
    _require_admin(actor)
    clean = clean_policy(actor.tenant_id, values)
    _unique_name(Policy, actor.tenant_id, clean["name"], None)
    last = (
        Policy.objects.for_tenant(actor.tenant_id)
        .order_by("-position")
        .values_list("position", flat=True)
        .first()
    )
    policy = Policy.objects.create(tenant_id=actor.tenant_id, position=(last or 0) + 1, **clean)
    audit_record(
        tenant=actor.tenant, actor=actor.user, action="sla.policy_created", target=policy.name
    )
    return policy


@transaction.atomic
def policy_update(*, actor: Membership, policy: Policy, **values: Any) -> Policy:
    """Change a policy. Running clocks re-target at their ticket's next
    event, or at once with ``recompute_sla``."""
    _require_admin(actor)
    if policy.tenant_id != actor.tenant_id:
        raise PermissionDenied("Not a policy of this tenant.")
    clean = clean_policy(actor.tenant_id, values)
    _unique_name(Policy, actor.tenant_id, clean["name"], policy.pk)
    for key, value in clean.items():
        setattr(policy, key, value)
    policy.updated_at = timezone.now()
    policy.save()
    audit_record(
        tenant=actor.tenant, actor=actor.user, action="sla.policy_changed", target=policy.name
    )
    return policy


@transaction.atomic
def policy_delete(*, actor: Membership, policy: Policy) -> None:
    _require_admin(actor)
    if policy.tenant_id != actor.tenant_id:
        raise PermissionDenied("Not a policy of this tenant.")
    audit_record(
        tenant=actor.tenant, actor=actor.user, action="sla.policy_deleted", target=policy.name
    )
    policy.delete()


@transaction.atomic
def policy_move(*, actor: Membership, policy: Policy, offset: int) -> None:
    """Move a policy up (-1) or down (+1) the evaluation order."""
    _require_admin(actor)
    policies = list(
        Policy.objects.for_tenant(actor.tenant_id).select_for_update().order_by("position", "pk")
    )
    index = next((i for i, p in enumerate(policies) if p.pk == policy.pk), None)
    if index is None:
        raise PermissionDenied("Not a policy of this tenant.")
    other = index + (1 if offset > 0 else -1)
    if not 0 <= other < len(policies):
        return
    policies[index], policies[other] = policies[other], policies[index]
    for position, item in enumerate(policies, start=1):
        if item.position != position:
            item.position = position
            item.save(update_fields=["position"])
    audit_record(
        tenant=actor.tenant, actor=actor.user, action="sla.policy_moved", target=policy.name
    )


def clean_escalation(policy: Policy, values: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = defaultdict(list)
    trigger = values.get("trigger")
    if trigger not in Trigger.values:
        errors["trigger"].append(f"Choose one of: {', '.join(Trigger.values)}.")
    target = values.get("target") or ""
    if target and target not in Target.values:
        errors["target"].append(f"Choose one of: {', '.join(Target.values)}, or none for all.")
    action = values.get("action")
    if action not in EscalationAction.values:
        errors["action"].append(f"Choose one of: {', '.join(EscalationAction.values)}.")
    team = values.get("team")
    if team is not None and (not isinstance(team, Team) or team.tenant_id != policy.tenant_id):
        errors["team"].append("Not found.")
        team = None
    users = list(values.get("users") or [])
    member_ids = set(
        Membership.objects.for_tenant(policy.tenant_id)
        .filter(user__in=[u for u in users if isinstance(u, User)], is_active=True)
        .exclude(role=Role.REQUESTER)
        .values_list("user_id", flat=True)
    )
    if any(not isinstance(u, User) or u.pk not in member_ids for u in users):
        errors["users"].append("Name active agents of this tenant.")
    if action == EscalationAction.REASSIGN_TEAM and team is None and "team" not in errors:
        errors["team"].append("Name the team to reassign to.")
    if action == EscalationAction.NOTIFY_USERS and not users and "users" not in errors:
        errors["users"].append("Name at least one person to notify.")
    if errors:
        raise ValidationError(dict(errors))
    return {"trigger": trigger, "target": target, "action": action, "team": team, "users": users}


@transaction.atomic
def escalation_create(*, actor: Membership, policy: Policy, **values: Any) -> Escalation:
    _require_admin(actor)
    if policy.tenant_id != actor.tenant_id:
        raise PermissionDenied("Not a policy of this tenant.")
    clean = clean_escalation(policy, values)
    users = clean.pop("users")
    escalation = Escalation.objects.create(tenant_id=policy.tenant_id, policy=policy, **clean)
    escalation.users.set(users)
    audit_record(
        tenant=actor.tenant,
        actor=actor.user,
        action="sla.escalation_created",
        target=f"{policy.name}: {escalation}",
    )
    return escalation


@transaction.atomic
def escalation_delete(*, actor: Membership, escalation: Escalation) -> None:
    _require_admin(actor)
    if escalation.tenant_id != actor.tenant_id:
        raise PermissionDenied("Not an escalation of this tenant.")
    audit_record(
        tenant=actor.tenant,
        actor=actor.user,
        action="sla.escalation_deleted",
        target=f"{escalation.policy.name}: {escalation}",
    )
    escalation.delete()


def preview_due(*, calendar: Calendar | None, start: datetime, minutes: int) -> datetime:
    """When ``minutes`` business minutes after ``start`` end (the admin
    preview and ``POST /api/v1/sla/calendars/{id}/due/``)."""
    return business_time.add_business_minutes(calendar_schedule(calendar), start, minutes)


def membership_set_sla_profile(
    *, actor: Membership, membership: Membership, organisation: str, is_vip: bool
) -> Membership:
    """The requester's organisation and VIP flag, which policies may ask for."""
    _require_admin(actor)
    if membership.tenant_id != actor.tenant_id:
        raise PermissionDenied("Not a member of this tenant.")
    membership.organisation = " ".join(str(organisation or "").split())[:100]
    membership.is_vip = bool(is_vip)
    membership.save(update_fields=["organisation", "is_vip"])
    audit_record(
        tenant=actor.tenant,
        actor=actor.user,
        action="member.sla_profile_changed",
        target=membership.user.email,
    )
    return membership
