"""Django's admin, with Agora's admin site as the default `admin.site`."""

from django.contrib.admin.apps import AdminConfig


class AgoraAdminConfig(AdminConfig):
    default_site = "agora.accounts.admin_site.AgoraAdminSite"
