from django.contrib import admin

from agora.reviews.models import Review, VendorQualityFlag


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["id", "vendor", "author", "rating", "status", "created_at"]
    list_filter = ["status", "rating"]
    raw_id_fields = ["vendor", "listing", "booking", "vendor_order", "author"]
    readonly_fields = ["rating", "status"]


@admin.register(VendorQualityFlag)
class VendorQualityFlagAdmin(admin.ModelAdmin):
    list_display = ["vendor", "reason", "created_at", "resolved_at", "suspended"]
    list_filter = ["reason"]
    raw_id_fields = ["vendor", "resolved_by"]
