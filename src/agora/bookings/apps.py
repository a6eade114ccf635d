from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "agora.bookings"
    label = "bookings"
    verbose_name = "Bookings"

    def ready(self) -> None:
        from agora.bookings import tasks  # noqa: F401  (registers periodic jobs)
