from django.apps import AppConfig


class SloConfig(AppConfig):
    name = "slo"
    verbose_name = "SLAs and SLOs"

    def ready(self) -> None:
        from servicedesk import registry
        from servicedesk.models import register_api_scope, register_audit_labels

        register_api_scope("sla:admin", "Manage SLA policies and business calendars")
        register_audit_labels(
            {
                "member.sla_profile_changed": "SLA profile changed",
                "sla.calendar_created": "Business calendar created",
                "sla.calendar_changed": "Business calendar changed",
                "sla.calendar_deleted": "Business calendar deleted",
                "sla.policy_created": "SLA policy created",
                "sla.policy_changed": "SLA policy changed",
                "sla.policy_deleted": "SLA policy deleted",
                "sla.policy_moved": "SLA policy moved",
                "sla.escalation_created": "SLA escalation added",
                "sla.escalation_deleted": "SLA escalation removed",
            }
        )
        # The beat schedule names the sweeper's task; workers must know it.
        from slo import contributions, subscribers, tasks, ticket_api  # noqa: F401
        from slo.demo_data import hold_clocks, seed_demo_sla

        subscribers.subscribe()
        contributions.register()
        ticket_api.register()
        # After the tickets: each ticket's history is folded into its clocks
        # once, rather than event by event while it is played.
        registry.register_demo_seeder("sla", order=30, seed=seed_demo_sla, around=hold_clocks)
        registry.register_admin_section(
            "sla", order=60, label="SLAs", url_name="slo:admin_policies"
        )
