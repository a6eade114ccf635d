from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "agora.search"
    label = "search"
    verbose_name = "Search and discovery"

    def ready(self) -> None:
        from agora.search import sync

        sync.connect()
