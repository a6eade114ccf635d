from django.apps import AppConfig


class AutomotiveConfig(AppConfig):
    name = "agora.verticals.automotive"
    label = "automotive"
    verbose_name = "Automotive"

    def ready(self) -> None:
        # the system check (checks.py) and the periodic jobs (tasks.py) register on import
        import agora.verticals.automotive.checks
        import agora.verticals.automotive.tasks  # noqa: F401
