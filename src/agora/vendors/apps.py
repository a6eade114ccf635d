from django.apps import AppConfig


class VendorsConfig(AppConfig):
    name = "agora.vendors"
    label = "vendors"
    verbose_name = "Vendors"
