from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "servicedesk.search"
    label = "search"
    verbose_name = "Search"

    def ready(self) -> None:
        from servicedesk import registry
        from servicedesk.search.engine import seed_demo_index

        # Last: every other app's demo rows exist by then, whatever path wrote them.
        registry.register_demo_seeder("search", order=1000, seed=seed_demo_index)
