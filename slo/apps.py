from django.apps import AppConfig


class SloConfig(AppConfig):
    name = "slo"
    verbose_name = "SLAs and SLOs"

    def ready(self) -> None:
        # The beat schedule names the sweeper's task; workers must know it.
        from slo import tasks  # noqa: F401
