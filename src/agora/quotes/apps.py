from django.apps import AppConfig


class QuotesConfig(AppConfig):
    name = "agora.quotes"
    label = "quotes"
    verbose_name = "Quotes and matching"

    def ready(self) -> None:
        from agora.messaging import subjects
        from agora.quotes import tasks  # noqa: F401 - registers the periodic sweeps
        from agora.quotes.conversations import QuoteRequestSource

        subjects.register(QuoteRequestSource())
