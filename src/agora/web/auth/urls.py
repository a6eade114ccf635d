from django.urls import path

from agora.web.auth import views

urlpatterns = [
    path("login/", views.sign_in, name="login"),
    path("login/code/", views.sign_in_code, name="login-code"),
    path("logout/", views.sign_out, name="logout"),
    path("signup/", views.sign_up, name="signup"),
    path("password-reset/", views.PasswordResetRequest.as_view(), name="password_reset"),
    path("password-reset/sent/", views.PasswordResetSent.as_view(), name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        views.PasswordResetConfirm.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/complete/",
        views.PasswordResetComplete.as_view(),
        name="password_reset_complete",
    ),
]
