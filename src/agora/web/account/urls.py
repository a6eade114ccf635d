"""/account/: the customer's portal."""

from django.urls import path

from agora.web.account import (
    bookings,
    conversations,
    dashboard,
    goods,
    privacy,
    quotes,
    reviews,
    security,
    vehicles,
)

urlpatterns = [
    path("", dashboard.dashboard, name="account-dashboard"),
    path("status/", dashboard.live_status, name="account-status"),
    # bookings
    path("book/<int:listing_id>/", bookings.book, name="account-book"),
    path("bookings/", dashboard.booking_list, name="account-bookings"),
    path("bookings/<int:booking_id>/", bookings.booking_detail, name="account-booking"),
    path("bookings/<int:booking_id>/pay/", bookings.booking_pay, name="account-booking-pay"),
    path(
        "bookings/<int:booking_id>/confirmed/",
        bookings.booking_confirmed,
        name="account-booking-confirmed",
    ),
    path(
        "bookings/<int:booking_id>/cancel/", bookings.booking_cancel, name="account-booking-cancel"
    ),
    path(
        "bookings/<int:booking_id>/reschedule/",
        bookings.booking_reschedule,
        name="account-booking-reschedule",
    ),
    path(
        "bookings/<int:booking_id>/receipt/",
        bookings.booking_receipt,
        name="account-booking-receipt",
    ),
    # quote-based jobs
    path("quote/<int:listing_id>/", quotes.quote, name="account-quote"),
    # goods
    path("cart/", goods.cart_page, name="account-cart"),
    path("cart/add/", goods.cart_add, name="account-cart-add"),
    path("cart/update/", goods.cart_update, name="account-cart-update"),
    path("checkout/", goods.checkout_page, name="account-checkout-new"),
    path("checkouts/<int:checkout_id>/", goods.checkout_detail, name="account-checkout"),
    path("checkouts/<int:checkout_id>/pay/", goods.checkout_pay, name="account-checkout-pay"),
    path(
        "checkouts/<int:checkout_id>/receipt/",
        goods.checkout_receipt,
        name="account-checkout-receipt",
    ),
    path("orders/", dashboard.order_list, name="account-orders"),
    path("orders/<int:order_id>/", goods.order_detail, name="account-order"),
    path("orders/<int:order_id>/confirm/", goods.order_confirm, name="account-order-confirm"),
    path("orders/<int:order_id>/cancel/", goods.order_cancel, name="account-order-cancel"),
    # messages
    path("messages/", conversations.conversation_list, name="account-messages"),
    path(
        "messages/files/<int:attachment_id>/",
        conversations.attachment,
        name="account-message-file",
    ),
    path(
        "messages/<slug:kind>/<int:subject_id>/",
        conversations.conversation,
        name="account-conversation",
    ),
    path(
        "messages/<slug:kind>/<int:subject_id>/thread/",
        conversations.conversation_thread,
        name="account-conversation-thread",
    ),
    # reviews
    path("reviews/", reviews.review_list, name="account-reviews"),
    path("reviews/new/<str:kind>/<int:object_id>/", reviews.review_new, name="account-review-new"),
    path("reviews/<int:review_id>/edit/", reviews.review_edit, name="account-review-edit"),
    # the garage
    path("vehicles/", vehicles.garage, name="account-vehicles"),
    path("vehicles/<int:vehicle_id>/", vehicles.vehicle_detail, name="account-vehicle"),
    path(
        "vehicles/<int:vehicle_id>/remove/", vehicles.vehicle_remove, name="account-vehicle-remove"
    ),
    # security: two-factor sign-in
    path("security/", security.security_page, name="account-security"),
    path("security/start/", security.enrol_start, name="account-security-start"),
    path("security/confirm/", security.enrol_confirm, name="account-security-confirm"),
    path(
        "security/recovery-codes/",
        security.recovery_codes,
        name="account-security-recovery-codes",
    ),
    path("security/disable/", security.disable, name="account-security-disable"),
    # your data: export and deletion
    path("privacy/", privacy.privacy_page, name="account-privacy"),
    path("privacy/export/", privacy.export_download, name="account-privacy-export"),
    path("privacy/delete/", privacy.account_delete, name="account-privacy-delete"),
]
