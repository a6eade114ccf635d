from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "agora.notifications"
    label = "notifications"
    verbose_name = "Notifications and live events"

    def ready(self) -> None:
        from agora.core import periodic
        from agora.notifications import delivery, tasks  # noqa: F401  (registers periodic jobs)

        periodic.register_loop("outbox", delivery.run_once, every_seconds=0.5)

        # Live streams: every commit that emitted events wakes the hubs (notifications.live).
        from agora.notifications.live import hooks

        hooks.install()
