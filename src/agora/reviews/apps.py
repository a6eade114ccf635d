from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "agora.reviews"
    label = "reviews"
    verbose_name = "Reviews and trust"

    def ready(self) -> None:
        from agora.reviews import tasks  # noqa: F401  (registers periodic jobs)
