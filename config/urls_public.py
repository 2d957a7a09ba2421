"""URLs of the public host, BASE_DOMAIN (public schema): landing, staff and
consultant sign-in, and the platform admin."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from accounts.urls import account_urlpatterns
from tenants import views

urlpatterns = [
    path("", views.landing, name="home"),
    path("login/", views.PublicLoginView.as_view(), name="login"),
    *account_urlpatterns,
    path("portal/", include("tenants.urls_portal")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
]

if settings.BENCH_BASELINE:  # the load benchmark's own server only (config/baseline.py)
    urlpatterns.append(path("", include("config.baseline")))
