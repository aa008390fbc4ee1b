from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = "Tickets"

    def ready(self) -> None:
        # Services queue delivery by task name; the web process must know it.
        from servicedesk import registry
        from tickets import selectors, tasks  # noqa: F401
        from tickets.demo import seed_demo_tickets

        selectors.register_queues()
        registry.register_demo_seeder("tickets", order=20, seed=seed_demo_tickets)
        registry.register_admin_section(
            "tickets", order=50, label="Tickets", url_name="tickets:admin_ticket_settings"
        )
