from django.apps import AppConfig


class SloConfig(AppConfig):
    name = "slo"
    verbose_name = "SLAs and SLOs"

    def ready(self) -> None:
        # The beat schedule names the sweeper's task; workers must know it.
        from servicedesk import registry
        from slo import contributions, subscribers, tasks, ticket_api  # noqa: F401
        from slo.demo_data import seed_demo_sla

        subscribers.subscribe()
        contributions.register()
        ticket_api.register()
        # After the tickets: each ticket's history is folded into its clocks
        # once, rather than event by event while it is played.
        registry.register_demo_seeder("sla", order=30, seed=seed_demo_sla)
        registry.register_admin_section(
            "sla", order=60, label="SLAs", url_name="slo:admin_policies"
        )
