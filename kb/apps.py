from django.apps import AppConfig


class KbConfig(AppConfig):
    name = "kb"
    verbose_name = "Knowledge base"

    def ready(self) -> None:
        from servicedesk import registry
        from servicedesk.models import register_api_scope

        register_api_scope("kb:read", "Read knowledge-base articles and their revisions")
        register_api_scope("kb:write", "Write knowledge-base articles")
        # The beat schedule names the sweeper's task; workers must know it.
        from kb import contributions, search, services, tasks  # noqa: F401
        from kb.demo import seed_demo_articles

        search.register()
        services.subscribe()
        contributions.register()
        # After the tickets: the demo links some of them.
        registry.register_demo_seeder("kb", order=40, seed=seed_demo_articles)
        registry.staff_areas.register(
            registry.StaffArea(name="kb", order=10, label="Knowledge base", url_name="kb:desk_list")
        )
