from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "agora.orders"
    label = "orders"
    verbose_name = "Orders"

    def ready(self) -> None:
        from agora.orders import tasks  # noqa: F401  (registers periodic jobs)
        from agora.orders.services import announce

        announce.register()  # payments describes "order:<id>" refunds and disputes by it
