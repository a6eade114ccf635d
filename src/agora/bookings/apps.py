from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "agora.bookings"
    label = "bookings"
    verbose_name = "Bookings"

    def ready(self) -> None:
        from agora.bookings import tasks  # noqa: F401  (registers periodic jobs)
        from agora.bookings.services import announce

        announce.register()  # payments describes "booking:<id>" refunds and disputes by it
