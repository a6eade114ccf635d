from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "agora.core"
    label = "core"
    verbose_name = "Agora core"

    def ready(self) -> None:
        from agora.core import tasks  # noqa: F401  (registers periodic jobs)
