"""Session sign-in, sign-out, sign-up and password reset for the pages.

Sign-in goes through `accounts.services.user_authenticate`, the same throttled check the
API's token endpoint uses, so a password guessed on the page counts against the same
database-backed limits (429 past them). `next` is followed only to a URL on this site.
An account with two-factor sign-in is signed in only by the second step, `sign_in_code`,
after its code (`two_factor.services.otp_sign_in_step`, throttled the same way): no
session of such an account exists without both factors.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.crypto import constant_time_compare
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login

from agora.accounts import services as account_services
from agora.accounts.errors import AccountError, AccountErrorCode
from agora.accounts.models import User
from agora.accounts.two_factor import services as two_factor
from agora.core import clock, ratelimit
from agora.core.errors import InvalidInput, NotAuthenticated, RateLimited
from agora.vendors import selectors as vendor_selectors
from agora.web.auth.forms import OtpForm, SignInForm, SignUpForm

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
# Between the password and the code: whose password was right, and until when.
PENDING_SESSION_KEY = "agora.two_factor.pending"
PENDING_TTL = timedelta(minutes=5)
# Reset e-mails per address of origin: enough for a shared office, too few to bomb
# someone's inbox. (Sign-ups are limited in accounts.services, for the API too.)
RESETS_PER_IP = 10
WINDOW_SECONDS = 3600


def client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR") or "unknown"


def safe_next(request: HttpRequest) -> str | None:
    """`next` from the form or query string, if it stays on this site; else None."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return None


def home_for(user: Any) -> str:
    """Where a person lands after signing in without a `next`: their busiest portal."""
    if user.is_operator:
        return "/operator/"
    if vendor_selectors.staff_vendor_ids(user=user):
        return "/vendor/"
    return "/account/"


def _page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    context.setdefault("next", safe_next(request) or "")
    context.setdefault("noindex", True)
    return render(request, template, context, status=status)


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {
        "page_title": "Sign in — Agora",
        "meta_description": "Sign in to Agora.",
    }
    if request.method != "POST":
        context["form"] = SignInForm(initial={"email": request.GET.get("email", "")})
        return _page(request, "web/auth/login.html", context)
    form = SignInForm(request.POST)
    context["form"] = form
    if not form.is_valid():
        return _page(request, "web/auth/login.html", context, status=400)
    try:
        user = account_services.user_authenticate(
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password"],
            ip=client_ip(request),
        )
    except RateLimited as error:
        form.add_error(None, error.detail)
        response = _page(request, "web/auth/login.html", context, status=429)
        response["Retry-After"] = error.headers["Retry-After"]
        return response
    except NotAuthenticated:
        form.add_error(None, "The e-mail address or password is wrong.")
        return _page(request, "web/auth/login.html", context, status=400)
    if user.otp_enabled_at is not None:
        # Not signed in yet: the session only remembers, for a few minutes, whose password
        # was right, and the code step signs in (sign_in_code).
        request.session[PENDING_SESSION_KEY] = {
            "user_id": user.pk,
            "hash": user.get_session_auth_hash(),
            "until": (clock.now() + PENDING_TTL).timestamp(),
        }
        target = "/login/code/"
        if next_url := safe_next(request):
            target += "?" + urlencode({"next": next_url})
        return HttpResponseRedirect(target)
    login(request, user, backend=MODEL_BACKEND)
    return HttpResponseRedirect(safe_next(request) or home_for(user))


def _pending_user(request: HttpRequest) -> User | None:
    """Whose password was right in this session, if that was a moment ago and their
    password and two-factor settings have not changed since."""
    pending = request.session.get(PENDING_SESSION_KEY)
    if not isinstance(pending, dict) or pending.get("until", 0) < clock.now().timestamp():
        return None
    user_id = pending.get("user_id")
    if not isinstance(user_id, int):
        return None
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not constant_time_compare(
        str(pending.get("hash", "")), user.get_session_auth_hash()
    ):
        return None
    return user


@sensitive_post_parameters("otp")
@csrf_protect
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def sign_in_code(request: HttpRequest) -> HttpResponse:
    """The second sign-in step of an account with two-factor sign-in."""
    user = _pending_user(request)
    if user is None:
        request.session.pop(PENDING_SESSION_KEY, None)
        if request.method == "POST":
            messages.error(request, "That took too long; please sign in again.")
        target = settings.LOGIN_URL
        if next_url := safe_next(request):
            target += "?" + urlencode({"next": next_url})
        return HttpResponseRedirect(target)
    context: dict[str, Any] = {
        "page_title": "Two-factor sign-in — Agora",
        "meta_description": "Sign in to Agora with your authenticator app.",
    }
    if request.method != "POST":
        context["form"] = OtpForm()
        return _page(request, "web/auth/login_code.html", context)
    form = OtpForm(request.POST)
    context["form"] = form
    if not form.is_valid():
        return _page(request, "web/auth/login_code.html", context, status=400)
    try:
        match = two_factor.otp_sign_in_step(
            user=user, otp=form.cleaned_data["otp"], ip=client_ip(request)
        )
    except RateLimited as error:
        form.add_error(None, error.detail)
        response = _page(request, "web/auth/login_code.html", context, status=429)
        response["Retry-After"] = error.headers["Retry-After"]
        return response
    except NotAuthenticated:
        form.add_error(None, "That code is wrong, or has been used already.")
        return _page(request, "web/auth/login_code.html", context, status=400)
    request.session.pop(PENDING_SESSION_KEY, None)
    login(request, user, backend=MODEL_BACKEND)
    otp_login(request, match.device)
    if match.recovery_code:
        messages.warning(
            request,
            f"You signed in with a recovery code; {match.recovery_codes_left} left. "
            "Make new ones under Security.",
        )
    return HttpResponseRedirect(safe_next(request) or home_for(user))


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.success(request, "You are signed out.")
    return redirect("/")


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def sign_up(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {
        "page_title": "Create an account — Agora",
        "meta_description": "Create a free Agora account to book services and buy from shops.",
    }
    if request.method != "POST":
        context["form"] = SignUpForm()
        return _page(request, "web/auth/signup.html", context)
    form = SignUpForm(request.POST)
    context["form"] = form
    if not form.is_valid():
        return _page(request, "web/auth/signup.html", context, status=400)
    try:
        user = account_services.user_register(
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password"],
            name=form.cleaned_data["name"],
            ip=client_ip(request),
        )
    except RateLimited as error:  # the same limit as the API's (SIGNUPS_PER_IP)
        form.add_error(None, error.detail)
        response = _page(request, "web/auth/signup.html", context, status=429)
        response["Retry-After"] = error.headers["Retry-After"]
        return response
    except InvalidInput as error:
        _field_errors(form, error)
        return _page(request, "web/auth/signup.html", context, status=400)
    except AccountError as error:
        if error.code != AccountErrorCode.EMAIL_TAKEN:
            raise
        form.add_error(
            "email", "An account with this e-mail address exists already. Sign in instead?"
        )
        context["email_taken"] = True
        return _page(request, "web/auth/signup.html", context, status=409)
    login(request, user, backend=MODEL_BACKEND)
    messages.success(request, f"Welcome to Agora, {user.name}.")
    return HttpResponseRedirect(safe_next(request) or "/account/")


def _field_errors(form: SignUpForm, error: InvalidInput) -> None:
    """Put the service's `{loc: ["body", field], msg}` items on the form's fields."""
    items = error.extra.get("errors") or []
    placed = False
    for item in items:
        loc = item.get("loc") or []
        field = loc[-1] if loc else None
        if field in form.fields:
            form.add_error(field, str(item.get("msg", error.detail)))
            placed = True
    if not placed:
        form.add_error(None, error.detail)


# --- password reset -------------------------------------------------------------------


class OutboxPasswordResetForm(PasswordResetForm):
    """Django's reset form, its mail handed to the outbox: retried when the relay fails,
    never lost, and no answer on the page that would tell whether the address exists."""

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        account_services.password_reset_announce(
            user=context["user"],
            reset_path=f"/password-reset/{context['uid']}/{context['token']}/",
        )


class PasswordResetRequest(auth_views.PasswordResetView):
    form_class = OutboxPasswordResetForm
    template_name = "web/auth/password_reset_form.html"
    email_template_name = "web/auth/password_reset_email.txt"
    subject_template_name = "web/auth/password_reset_subject.txt"
    success_url = "/password-reset/sent/"
    extra_context = {"page_title": "Reset your password — Agora", "noindex": True}

    def form_valid(self, form: Any) -> HttpResponse:
        attempts = ratelimit.hit(
            scope="reset-ip", ident=client_ip(self.request), window_seconds=WINDOW_SECONDS
        )
        if attempts > RESETS_PER_IP:
            form.add_error(None, "Too many reset requests from your network; try again later.")
            response = self.render_to_response(self.get_context_data(form=form), status=429)
            response["Retry-After"] = str(ratelimit.retry_after(window_seconds=WINDOW_SECONDS))
            return response
        return super().form_valid(form)


class PasswordResetSent(auth_views.PasswordResetDoneView):
    template_name = "web/auth/password_reset_sent.html"
    extra_context = {"page_title": "Check your e-mail — Agora", "noindex": True}


class PasswordResetConfirm(auth_views.PasswordResetConfirmView):
    template_name = "web/auth/password_reset_confirm.html"
    success_url = "/password-reset/complete/"
    extra_context = {"page_title": "Choose a new password — Agora", "noindex": True}

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        # Whoever knew the old password may hold API tokens: a reset ends them too.
        account_services.tokens_revoke_all(user=form.user)
        return response


class PasswordResetComplete(auth_views.PasswordResetCompleteView):
    template_name = "web/auth/password_reset_complete.html"
    extra_context = {"page_title": "Password changed — Agora", "noindex": True}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["login_url"] = settings.LOGIN_URL
        return context
