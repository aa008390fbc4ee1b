from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "servicedesk.search"
    label = "search"
    verbose_name = "Search"

    def ready(self) -> None:
        from servicedesk import registry
        from servicedesk.search.engine import indexing_held, seed_demo_index

        # Last: every other app's demo rows exist by then, whatever path wrote
        # them; while the others seed, documents are not written one by one.
        registry.register_demo_seeder(
            "search", order=1000, seed=seed_demo_index, around=indexing_held
        )
