"""URLs of an organisation's host, <slug>.<BASE_DOMAIN> (tenant schema)."""

from django.urls import include, path

from accounts import views as account_views

urlpatterns = [
    path("", account_views.home, name="home"),
    path("", include("accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
]
