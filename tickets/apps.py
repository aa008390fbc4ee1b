from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = "Tickets"

    def ready(self) -> None:
        # Services queue delivery by task name; the web process must know it.
        from tickets import tasks  # noqa: F401
