"""Sign-in, sign-out and password pages; the same views serve every host, each in
its own schema (a tenant's people on its host, platform staff on the public host)."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse_lazy

from accounts.forms import EmailAuthenticationForm
from accounts.tokens import set_password_token


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    token_generator = set_password_token
    success_url = reverse_lazy("password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class SetPasswordView(auth_views.PasswordResetConfirmView):
    """Used both by invitations (first password) and by password resets."""

    template_name = "accounts/set_password.html"
    token_generator = set_password_token
    success_url = reverse_lazy("set_password_complete")


class SetPasswordCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/set_password_complete.html"


@login_required
def home(request):
    """The organisation's home page; "My focus" replaces it in the web UI step."""
    user = request.user
    return render(
        request,
        "accounts/home.html",
        {"team": user.team, "manager": user.manager, "role": user.get_role_display()},
    )
