from django.apps import AppConfig


class PingConfig(AppConfig):
    """Registers the test-only `test.ping` event type in processes the tests start."""

    name = "tests.notifications.pingapp"
    label = "pingapp"

    def ready(self) -> None:
        from agora.notifications import catalogue
        from tests.notifications.conftest import PING

        catalogue.register(PING)
