from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Service catalog"

    def ready(self) -> None:
        from catalog import contributions
        from catalog.demo import seed_demo_catalog
        from servicedesk import registry
        from servicedesk.models import register_api_scope

        register_api_scope("catalog:admin", "Manage the service catalog: services and items")
        contributions.register()
        # After the tickets' history and before the SLA folds it: the demo
        # orders are requests the SLA counts like any other.
        registry.register_demo_seeder("catalog", order=25, seed=seed_demo_catalog)
