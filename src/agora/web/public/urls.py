from django.urls import path

from agora.web.public import views

urlpatterns = [
    path("", views.home, name="home"),
]
