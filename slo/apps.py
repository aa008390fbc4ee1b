from django.apps import AppConfig


class SloConfig(AppConfig):
    name = "slo"
    verbose_name = "SLAs and SLOs"

    def ready(self) -> None:
        # The beat schedule names the sweeper's task; workers must know it.
        from servicedesk import registry
        from slo import contributions, subscribers, tasks, ticket_api  # noqa: F401
        from slo.demo_data import seed_demo_clocks, seed_demo_policies

        subscribers.subscribe()
        contributions.register()
        ticket_api.register()
        # Policies before the tickets, so their clocks start as their history is
        # played; the sweeper's work on that history after them.
        registry.register_demo_seeder("sla", order=10, seed=seed_demo_policies)
        registry.register_demo_seeder("sla clocks", order=30, seed=seed_demo_clocks)
        registry.register_admin_section(
            "sla", order=60, label="SLAs", url_name="slo:admin_policies"
        )
