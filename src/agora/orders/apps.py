from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "agora.orders"
    label = "orders"
    verbose_name = "Orders"

    def ready(self) -> None:
        from agora.orders import tasks  # noqa: F401  (registers periodic jobs)
