"""Quote pages, mounted by agora.web.urls under /account/quotes/, /vendor/quotes/ and
/operator/quotes/."""

from django.urls import path

from agora.web.quotes import views

account_urlpatterns = [
    path("", views.request_list, name="account-quotes"),
    path("new/", views.quote_ask, name="account-quote-new"),
    path("<int:request_id>/", views.request_detail, name="account-quote-request"),
    path(
        "<int:request_id>/accept/<int:quote_id>/",
        views.quote_accept,
        name="account-quote-accept",
    ),
    path("<int:request_id>/cancel/", views.request_cancel, name="account-quote-cancel"),
]

vendor_urlpatterns = [
    path("", views.invitation_list, name="vendor-quotes"),
    path("<int:request_id>/", views.invitation_detail, name="vendor-quote-request"),
    path("<int:request_id>/quote/", views.quote_send, name="vendor-quote-send"),
    path("<int:request_id>/pass/", views.invitation_pass, name="vendor-quote-pass"),
    path("<int:request_id>/withdraw/", views.quote_withdraw, name="vendor-quote-withdraw"),
]

operator_urlpatterns = [
    path("", views.operator_list, name="operator-quotes"),
    path("<int:request_id>/", views.operator_detail, name="operator-quote-request"),
]
