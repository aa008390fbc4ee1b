from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ServicedeskConfig(AppConfig):
    name = "servicedesk"
    verbose_name = "Tenancy and accounts"

    def ready(self) -> None:
        from servicedesk import registry, rls

        # After every migrate, every tenant-owned table gets its policy.
        post_migrate.connect(rls.apply_policies, sender=self, dispatch_uid="servicedesk-rls")
        for order, name, label in (
            (10, "overview", "Overview"),
            (20, "members", "Members"),
            (30, "teams", "Teams"),
            (40, "api_tokens", "API tokens"),
            (90, "settings", "Settings"),
        ):
            registry.register_admin_section(
                name, order=order, label=label, url_name=f"tenant_admin:{name}"
            )
