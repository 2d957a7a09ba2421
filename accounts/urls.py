from django.contrib.auth.views import LogoutView
from django.urls import path

from accounts.views import auth as views

# Shared by both hosts; each host adds its own sign-in view.
account_urlpatterns = [
    path("logout/", LogoutView.as_view(), name="logout"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("set-password/<uidb64>/<token>/", views.SetPasswordView.as_view(), name="set_password"),
    path("set-password/done/", views.SetPasswordCompleteView.as_view(), name="set_password_complete"),
]

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    *account_urlpatterns,
]
