"""The ticket lifecycle hook: what each service publishes, in which order the
receivers run, and what a receiver's failure does to the change."""

from __future__ import annotations

import logging

import pytest
from django.core.files.base import ContentFile
from django.db import transaction

from servicedesk.models import Role
from tickets import hooks, services
from tickets.hooks import Happened, Phase, TicketChange
from tickets.models import ActorKind, Status, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard():
    """Every change published while the test runs, as an in-transaction receiver sees it."""
    changes: list[TicketChange] = []
    hooks.subscribe("test.heard", changes.append, order=1000)
    yield changes
    hooks.unsubscribe("test.heard")


def new_ticket(actor, **fields) -> Ticket:
    fields.setdefault("kind", "incident")
    fields.setdefault("title", "VPN is down")
    return services.ticket_create(actor=actor, **fields)


def test_every_subscription_is_listed_in_the_order_it_runs():
    # The apps' subscriptions, pinned: a new one is a decision, not an accident.
    assert [(r.name, r.order, r.phase) for r in hooks.receivers()] == [
        ("sla.clocks", 10, Phase.IN_TRANSACTION),
        ("search.tickets", 50, Phase.IN_TRANSACTION),
        ("kb.deflections", 60, Phase.AFTER_COMMIT),
    ]


def test_each_service_publishes_what_it_did(world, heard, agent, requester, actors):
    ticket = new_ticket(requester)
    services.ticket_update(actor=agent, ticket=ticket, assignee=agent.user, tags=["vpn"])
    services.comment_add(actor=agent, ticket=ticket, body="Looking", is_internal=True)
    services.comment_add(actor=agent, ticket=ticket, body="On it")
    services.attachment_add(actor=agent, ticket=ticket, upload=ContentFile(b"x", name="log.txt"))
    services.watcher_add(actor=agent, ticket=ticket, user=actors[Role.LEAD].user)
    services.ticket_transition(
        actor=agent, ticket=ticket, status=Status.RESOLVED, resolution_code="solved"
    )
    duplicate = new_ticket(requester, title="VPN down again")
    services.ticket_merge(actor=agent, source=duplicate, target=ticket)

    assert [(c.happened, c.ticket_id) for c in heard] == [
        (Happened.CREATED, ticket.pk),
        (Happened.UPDATED, ticket.pk),
        (Happened.COMMENTED, ticket.pk),
        (Happened.COMMENTED, ticket.pk),
        (Happened.ATTACHED, ticket.pk),
        (Happened.WATCHERS_CHANGED, ticket.pk),
        (Happened.TRANSITIONED, ticket.pk),
        (Happened.CREATED, duplicate.pk),
        (Happened.MERGED, duplicate.pk),
    ]
    created, updated, note, reply, *_, resolved, _, merged = heard
    assert created.actor_kind == ActorKind.USER
    assert created.actor_user_id == requester.user.pk
    assert created.tenant_id == world.tenant.pk
    assert updated.fields == {"assignee", "tags"}
    assert (note.is_public, reply.is_public) == (False, True)
    assert (resolved.old_status, resolved.new_status) == (Status.IN_PROGRESS, Status.RESOLVED)
    assert merged.other_ticket_id == ticket.pk


def test_a_change_that_changes_nothing_publishes_nothing(world, heard, agent, requester):
    ticket = new_ticket(requester)
    heard.clear()
    services.ticket_update(actor=agent, ticket=ticket, title=ticket.title)
    assert heard == []


def test_in_transaction_receivers_get_the_locked_ticket_inside_the_transaction(
    world, agent, requester
):
    seen = []

    def receiver(change: TicketChange) -> None:
        seen.append((change.ticket, transaction.get_connection().in_atomic_block))

    hooks.subscribe("test.inside", receiver, happened=[Happened.CREATED])
    try:
        ticket = new_ticket(requester)
        services.comment_add(actor=agent, ticket=ticket, body="Not a creation")
    finally:
        hooks.unsubscribe("test.inside")
    assert seen == [(ticket, True)]


def test_receivers_run_in_their_order_whatever_the_order_they_subscribed_in(world, requester):
    calls = []
    hooks.subscribe("test.late", lambda change: calls.append("late"), order=500)
    hooks.subscribe("test.early", lambda change: calls.append("early"), order=1)
    try:
        new_ticket(requester)
    finally:
        hooks.unsubscribe("test.late")
        hooks.unsubscribe("test.early")
    assert calls == ["early", "late"]


def test_a_failing_in_transaction_receiver_undoes_the_whole_change(world, requester):
    def refuse(change: TicketChange) -> None:
        raise RuntimeError("invariant broken")

    hooks.subscribe("test.refuse", refuse)
    try:
        with pytest.raises(RuntimeError, match="invariant broken"):
            new_ticket(requester)
    finally:
        hooks.unsubscribe("test.refuse")
    assert not Ticket.objects.for_tenant(world.tenant).exists()


def test_after_commit_receivers_get_ids_once_committed_and_one_failure_spares_the_others(
    world, requester, django_capture_on_commit_callbacks, caplog
):
    received: list[TicketChange] = []

    def fail(change: TicketChange) -> None:
        raise RuntimeError("webhook down")

    hooks.subscribe("test.fails", fail, phase=Phase.AFTER_COMMIT, order=1)
    hooks.subscribe("test.later", received.append, phase=Phase.AFTER_COMMIT, order=2)
    try:
        with (
            caplog.at_level(logging.ERROR),
            django_capture_on_commit_callbacks(execute=True) as callbacks,
        ):
            ticket = new_ticket(requester)
            assert received == []  # nothing before the commit
    finally:
        hooks.unsubscribe("test.fails")
        hooks.unsubscribe("test.later")
    assert len(callbacks) >= 2
    assert [(c.happened, c.ticket_id, c.ticket) for c in received] == [
        (Happened.CREATED, ticket.pk, None)
    ]
    assert "webhook down" in caplog.text


def test_after_commit_receivers_hear_nothing_of_a_rolled_back_change(
    world, requester, django_capture_on_commit_callbacks
):
    received: list[TicketChange] = []
    hooks.subscribe("test.after", received.append, phase=Phase.AFTER_COMMIT)

    def fails_after_the_service() -> None:
        with transaction.atomic():
            new_ticket(requester)
            raise RuntimeError("the caller's transaction fails later")

    try:
        with (
            django_capture_on_commit_callbacks(execute=True),
            pytest.raises(RuntimeError, match="fails later"),
        ):
            fails_after_the_service()
    finally:
        hooks.unsubscribe("test.after")
    assert received == []


@pytest.mark.django_db(transaction=True)
def test_publishing_outside_a_transaction_is_refused():
    change = TicketChange(happened=Happened.CREATED, tenant_id=1, ticket_id=1, actor_kind="user")
    with pytest.raises(RuntimeError, match="inside the service's transaction"):
        hooks.publish(change)


def test_a_name_is_subscribed_once():
    def receiver(change: TicketChange) -> None:
        pass

    hooks.subscribe("test.once", receiver)
    try:
        with pytest.raises(ValueError, match="registered already"):
            hooks.subscribe("test.once", lambda change: None)
    finally:
        hooks.unsubscribe("test.once")
