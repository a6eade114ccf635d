from django.contrib import admin

from agora.verticals.automotive.models import MotReminder, Vehicle


@admin.register(Vehicle)
class VehicleAdmin(admin.ModelAdmin):
    list_display = ("registration", "make", "model", "owner", "mot_expiry_date", "removed_at")
    search_fields = ("registration", "owner__email")
    raw_id_fields = ("owner",)
    readonly_fields = ("profile", "refreshed_at", "created_at")


@admin.register(MotReminder)
class MotReminderAdmin(admin.ModelAdmin):
    list_display = ("vehicle", "kind", "expiry_date", "sent_at")
    raw_id_fields = ("vehicle",)
