from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = "Tickets"

    def ready(self) -> None:
        from servicedesk import registry
        from servicedesk.models import register_api_scope, register_audit_labels

        register_api_scope("tickets:read", "Read tickets, their comments and history")
        register_api_scope("tickets:write", "Create tickets, change them and comment on them")
        register_audit_labels(
            {
                "tickets.settings_changed": "Ticket settings changed",
                "tickets.category_created": "Category added",
                "tickets.category_deleted": "Category removed",
            }
        )
        # Services queue delivery by task name; the web process must know it.
        from tickets import search, selectors, tasks  # noqa: F401
        from tickets.demo import seed_demo_tickets

        selectors.register_queues()
        search.register()
        registry.register_demo_seeder("tickets", order=20, seed=seed_demo_tickets)
        registry.register_admin_section(
            "tickets", order=50, label="Tickets", url_name="tickets:admin_ticket_settings"
        )
