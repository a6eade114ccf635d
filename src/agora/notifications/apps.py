from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "agora.notifications"
    label = "notifications"
    verbose_name = "Notifications and live events"

    def ready(self) -> None:
        from agora.notifications import tasks  # noqa: F401  (registers periodic jobs)
