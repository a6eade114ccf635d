"""/operator/: the operator console (operators only; see agora.web.access)."""

from django.urls import include, path

from agora.web.operator_portal.views import money, outbox, overview, reviews, rules, vendors
from agora.web.webhooks.urls import operator_urlpatterns as webhook_urlpatterns

urlpatterns = [
    path("", overview.overview_page, name="operator"),
    path("vendors/", vendors.vendor_queue, name="operator-vendors"),
    path("vendors/bulk/", vendors.vendor_bulk, name="operator-vendors-bulk"),
    path("vendors/<int:vendor_id>/", vendors.vendor_detail, name="operator-vendor"),
    path(
        "vendors/<int:vendor_id>/documents/<int:document_id>/",
        vendors.vendor_document,
        name="operator-vendor-document",
    ),
    path(
        "vendors/<int:vendor_id>/<slug:action>/",
        vendors.vendor_decide,
        name="operator-vendor-decide",
    ),
    path("reviews/", reviews.review_queue, name="operator-reviews"),
    path("reviews/<int:review_id>/<slug:action>/", reviews.review_moderate, name="operator-review"),
    path(
        "quality-flags/<int:flag_id>/resolve/",
        reviews.quality_flag_resolve,
        name="operator-quality-flag-resolve",
    ),
    path("sales/", money.sale_list, name="operator-sales"),
    path("sales/<str:reference>/", money.sale_detail, name="operator-sale"),
    path("sales/<str:reference>/refund/", money.sale_refund, name="operator-sale-refund"),
    path("sales/<str:reference>/dispute/", money.sale_dispute, name="operator-sale-dispute"),
    path("disputes/", money.dispute_list, name="operator-disputes"),
    path("disputes/<int:dispute_id>/", money.dispute_detail, name="operator-dispute"),
    path(
        "disputes/<int:dispute_id>/evidence/",
        money.dispute_evidence,
        name="operator-dispute-evidence",
    ),
    path("disputes/<int:dispute_id>/decide/", money.dispute_decide, name="operator-dispute-decide"),
    path("outbox/", outbox.email_list, name="operator-outbox"),
    path("outbox/<int:delivery_id>/retry/", outbox.email_retry, name="operator-outbox-retry"),
    path("commission-rules/", rules.rule_list, name="operator-rules"),
    path("commission-rules/new/", rules.rule_create, name="operator-rule-new"),
    path("commission-rules/<int:rule_id>/edit/", rules.rule_edit, name="operator-rule-edit"),
    path(
        "commission-rules/<int:rule_id>/<slug:action>/",
        rules.rule_switch,
        name="operator-rule-switch",
    ),
    path("webhooks/", include(webhook_urlpatterns)),
]
