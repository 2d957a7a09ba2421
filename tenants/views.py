"""Public-host pages."""

from django.shortcuts import render
from django.urls import reverse

from accounts.views.auth import LoginView
from tenants.permissions import is_consultant


def landing(request):
    return render(request, "tenants/landing.html")


class PublicLoginView(LoginView):
    """Platform staff and consultants sign in here; staff land in the admin, consultants
    in their portal."""

    template_name = "tenants/login.html"

    def get_default_redirect_url(self):
        if self.request.user.is_staff:
            return reverse("admin:index")
        if is_consultant(self.request.user):
            return reverse("portal:portfolio")
        return super().get_default_redirect_url()
