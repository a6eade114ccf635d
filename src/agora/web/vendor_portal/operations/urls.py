"""/vendor/ day-to-day operations: agenda, calendar, bookings, orders, staff, profile,
onboarding."""

from django.urls import path

from agora.web.vendor_portal.operations.views import (
    agenda,
    bookings,
    conversations,
    orders,
    profile,
    staff,
)

urlpatterns = [
    path("", agenda.today, name="vendor-today"),
    path("calendar/", agenda.calendar, name="vendor-calendar"),
    path("bookings/", bookings.booking_list, name="vendor-bookings"),
    path("bookings/<int:booking_id>/", bookings.booking_detail, name="vendor-booking"),
    path(
        "bookings/<int:booking_id>/<slug:action>/",
        bookings.booking_move,
        name="vendor-booking-move",
    ),
    path("orders/", orders.order_list, name="vendor-orders"),
    path("orders/<int:order_id>/", orders.order_detail, name="vendor-order"),
    path("orders/<int:order_id>/<slug:action>/", orders.order_move, name="vendor-order-move"),
    path("messages/", conversations.conversation_list, name="vendor-messages"),
    path(
        "messages/files/<int:attachment_id>/",
        conversations.attachment,
        name="vendor-message-file",
    ),
    path(
        "messages/<slug:kind>/<int:subject_id>/",
        conversations.conversation,
        name="vendor-conversation",
    ),
    path(
        "messages/<slug:kind>/<int:subject_id>/thread/",
        conversations.conversation_thread,
        name="vendor-conversation-thread",
    ),
    path("staff/", staff.staff_list, name="vendor-staff"),
    path("staff/invite/", staff.staff_invite, name="vendor-staff-invite"),
    path("staff/<int:user_id>/role/", staff.staff_change_role, name="vendor-staff-role"),
    path("staff/<int:user_id>/remove/", staff.staff_remove, name="vendor-staff-remove"),
    path("profile/", profile.profile, name="vendor-profile"),
    path("profile/documents/", profile.document_upload, name="vendor-document-upload"),
    path(
        "profile/documents/<int:document_id>/",
        profile.document_download,
        name="vendor-document",
    ),
    path("onboarding/", profile.onboarding, name="vendor-onboarding"),
    path("join/", profile.join, name="vendor-join"),
]
