"""Demo tickets: a desk that looks lived in.

``seed_demo`` (through ``seed_demo_tickets``, registered in
``tickets.apps``) gives each demo tenant a few hundred incidents, requests,
problems and changes over the last ninety days: conversations between
requesters and agents, internal notes, files, escalations, priority
overrides, watchers, problems with their incidents, changes, merged
duplicates and confidential security incidents, as the tenant's own people.

The package, by what a newcomer looks for:

- ``corpus``: what the tickets say -- scenarios, phrases, each tenant's
  sites and assets. Data only.
- ``cast``: the tenant's people and teams as the story casts them.
- ``story``: how each ticket's life is planned and then played, step by
  step in time order, through ``tickets.services``.
- ``seed``: the entry point, ``seed_tickets``: one transaction per tenant,
  nobody mailed, nothing done twice.

This module stays small: the app registry imports it at every start, the
corpus and the story only a seed does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from servicedesk.registry import DemoSeed

DEFAULT_TICKETS = 300
# How far back the history reaches; the SLA demo's holidays cover it too.
HISTORY_DAYS = 90


def seed_demo_tickets(seed: DemoSeed) -> int:
    """The demo seeder (``servicedesk.registry``): a tenant's ticket history."""
    from tickets.demo.seed import seed_tickets

    return seed_tickets(seed.tenant, count=seed.tickets)
