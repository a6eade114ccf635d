from django.urls import path

from agora.web.public import views
from agora.web.public.views.vehicles import vehicle_check

urlpatterns = [
    path("", views.home, name="home"),
    path("search", views.search, name="search"),
    path("c/<slug:category_slug>/", views.category_landing, name="category"),
    path("c/<slug:category_slug>/<slug:city_slug>/", views.category_landing, name="category_city"),
    path(
        "c/<slug:category_slug>/<slug:city_slug>/first-free/",
        views.first_free,
        name="category_city_first_free",
    ),
    path("v/<slug:vendor_slug>/", views.vendor_page, name="vendor"),
    path("l/<int:listing_id>/", views.listing_page, name="listing"),
    path("l/<int:listing_id>/slots/", views.listing_slots, name="listing_slots"),
    path("sitemap.xml", views.sitemap_xml, name="sitemap"),
    path("sitemap-pages.xml", views.sitemap_section, {"section": "pages"}, name="sitemap-pages"),
    path(
        "sitemap-<str:section>-<int:number>.xml",
        views.sitemap_section,
        name="sitemap-section",
    ),
    path("robots.txt", views.robots_txt, name="robots"),
    path("vehicles/check/", vehicle_check, name="vehicle-check"),
]
