"""The places where apps plug into the core, filled from each app's
``AppConfig.ready``.

The core names no app: the demo seed, the tenant admin's navigation and the
admin's member page learn what exists from what was registered here. Each
registry keeps its entries in a defined order (``order``, then name), so what
runs first never depends on ``INSTALLED_APPS`` or import order, and a name
registered twice is a programming error, not a silent override.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

if TYPE_CHECKING:
    from django.http import HttpRequest

    from servicedesk.models import Membership, Tenant


class _Entry(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def order(self) -> int: ...


E = TypeVar("E", bound=_Entry)


class Registry(Generic[E]):
    """Named entries in a defined order."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._entries: dict[str, E] = {}

    def register(self, entry: E) -> E:
        if entry.name in self._entries and self._entries[entry.name] != entry:
            raise ValueError(f"{self.what} {entry.name!r} is registered already")
        self._entries[entry.name] = entry
        return entry

    def unregister(self, name: str) -> None:
        """For tests that register an entry of their own."""
        self._entries.pop(name, None)

    def get(self, name: str) -> E | None:
        return self._entries.get(name)

    def __iter__(self) -> Iterator[E]:
        return iter(sorted(self._entries.values(), key=lambda e: (e.order, e.name)))

    def __len__(self) -> int:
        return len(self._entries)

    def names(self) -> list[str]:
        return [entry.name for entry in self]


# --- Demo data -------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoSeed:
    """What ``seed_demo`` hands each seeder for one tenant.

    ``tickets`` is how many tickets a tenant without any should get;
    ``filed`` collects what earlier seeders made (``filed["tickets"]``), so a
    later one knows whether there is new history to settle."""

    tenant: Tenant
    tickets: int
    filed: dict[str, int]


@dataclass(frozen=True)
class DemoSeeder:
    """One app's part of the demo: ``seed`` runs once per demo tenant, after
    the people and teams exist, in ``order``. It must be safe to repeat and
    may return a count to record in ``DemoSeed.filed`` under its name.

    ``around``, if given, is a context every seeder of the tenant runs in:
    for an app that does its work on the others' data once at the end
    rather than as it is made (the SLA folds each ticket's log once)."""

    name: str
    order: int
    seed: Callable[[DemoSeed], int | None]
    around: Callable[[DemoSeed], AbstractContextManager[object]] | None = None


demo_seeders: Registry[DemoSeeder] = Registry("demo seeder")


def register_demo_seeder(
    name: str,
    *,
    order: int,
    seed: Callable[[DemoSeed], int | None],
    around: Callable[[DemoSeed], AbstractContextManager[object]] | None = None,
) -> None:
    demo_seeders.register(DemoSeeder(name=name, order=order, seed=seed, around=around))


# --- The tenant admin area -------------------------------------------------------------


@dataclass(frozen=True)
class AdminSection:
    """A section of the tenant admin's navigation: its label, the URL name
    of its first page (reversed with the tenant's slug) and the ``section``
    its pages put in their context to be marked current."""

    name: str
    order: int
    label: str
    url_name: str


admin_sections: Registry[AdminSection] = Registry("admin section")


def register_admin_section(name: str, *, order: int, label: str, url_name: str) -> None:
    admin_sections.register(AdminSection(name=name, order=order, label=label, url_name=url_name))


# --- The top bar's areas ---------------------------------------------------------------


@dataclass(frozen=True)
class StaffArea:
    """An area of the top bar beside the desk, for agents and up (the
    knowledge base): its label and the URL name of its first page,
    reversed with the tenant's slug."""

    name: str
    order: int
    label: str
    url_name: str


staff_areas: Registry[StaffArea] = Registry("staff area")


@dataclass(frozen=True)
class MemberPanel:
    """A card on the admin's member page that another app owns (the SLA
    profile). ``context`` builds its template context; ``handle`` takes a
    POST whose ``form`` field is the panel's name and returns the context to
    render again with errors, or ``None`` when it saved (``message`` says
    what). The page shows panels in ``order``."""

    name: str
    order: int
    template: str
    context: Callable[[HttpRequest, Membership], dict[str, Any]]
    handle: Callable[[HttpRequest, Membership], tuple[dict[str, Any] | None, str]]


member_panels: Registry[MemberPanel] = Registry("member panel")
