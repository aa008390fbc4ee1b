from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ServicedeskConfig(AppConfig):
    name = "servicedesk"
    verbose_name = "Tenancy and accounts"

    def ready(self) -> None:
        from servicedesk import rls

        # After every migrate, every tenant-owned table gets its policy.
        post_migrate.connect(rls.apply_policies, sender=self, dispatch_uid="servicedesk-rls")
