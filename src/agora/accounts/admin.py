from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from agora.accounts.models import ApiToken, User

# django-otp's own admin pages show TOTP secrets and QR codes to whoever opens them: the
# devices are managed by their owners only (/account/security/, /me/2fa).
for device_model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(device_model):
        admin.site.unregister(device_model)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "name", "is_operator", "is_active", "otp_enabled_at", "date_joined"]
    readonly_fields = ["otp_enabled_at", "deleted_at"]
    search_fields = ["email", "name"]
    fieldsets = (
        (None, {"fields": ("email", "password", "name")}),
        ("Roles", {"fields": ("is_active", "is_operator", "is_staff", "is_superuser")}),
        ("Security", {"fields": ("otp_enabled_at", "deleted_at")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "name", "password1", "password2")}),
    )


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "user", "created_at", "expires_at", "revoked_at"]
    readonly_fields = ["token_hash", "prefix", "created_at"]
