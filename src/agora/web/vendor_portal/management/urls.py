"""/vendor/ management: the catalogue, the schedule, money and analytics."""

from django.urls import path

from agora.web.vendor_portal.management.views import analytics, listings, money, schedule

urlpatterns = [
    path("listings/", listings.listing_list, name="vendor-listings"),
    path("listings/new/", listings.listing_create, name="vendor-listing-new"),
    path("listings/attributes/", listings.attribute_fields, name="vendor-listing-attributes"),
    path("listings/<int:listing_id>/", listings.listing_edit, name="vendor-listing"),
    path(
        "listings/<int:listing_id>/status/", listings.listing_status, name="vendor-listing-status"
    ),
    path("listings/<int:listing_id>/images/", listings.image_add, name="vendor-listing-image-add"),
    path(
        "listings/<int:listing_id>/images/<int:image_id>/delete/",
        listings.image_delete,
        name="vendor-listing-image-delete",
    ),
    path(
        "listings/<int:listing_id>/variants/", listings.variant_add, name="vendor-listing-variant"
    ),
    path("listings/<int:listing_id>/restock/", listings.restock, name="vendor-listing-restock"),
    path(
        "listings/<int:listing_id>/stock-count/",
        listings.stock_count,
        name="vendor-listing-stock-count",
    ),
    path(
        "listings/<int:listing_id>/resource/",
        listings.resource_assign,
        name="vendor-listing-resource",
    ),
    path("schedule/", schedule.schedule, name="vendor-schedule"),
    path("schedule/weekly/", schedule.weekly_save, name="vendor-schedule-weekly"),
    path("schedule/overrides/", schedule.override_add, name="vendor-schedule-override"),
    path(
        "schedule/overrides/<str:day>/delete/",
        schedule.override_delete,
        name="vendor-schedule-override-delete",
    ),
    path("schedule/holidays/", schedule.holiday_add, name="vendor-schedule-holiday"),
    path(
        "schedule/holidays/<str:day>/delete/",
        schedule.holiday_delete,
        name="vendor-schedule-holiday-delete",
    ),
    path("schedule/blocks/", schedule.block_add, name="vendor-schedule-block"),
    path(
        "schedule/blocks/<int:block_id>/delete/",
        schedule.block_delete,
        name="vendor-schedule-block-delete",
    ),
    path("schedule/resources/", schedule.resource_add, name="vendor-schedule-resource"),
    path("money/", money.money, name="vendor-money"),
    path("money/statement.csv", money.statement_csv, name="vendor-money-statement-csv"),
    path("money/payouts/", money.payout_request, name="vendor-money-payout"),
    path("money/payout-settings/", money.payout_settings, name="vendor-money-payout-settings"),
    path("analytics/", analytics.analytics, name="vendor-analytics"),
]
