"""The notification centre and preferences pages (the same services as the API), the bell
fragment, and the unsubscribe page that mails link to."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.timesince import timesince
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from agora.accounts.models import User
from agora.core import clock
from agora.core.errors import DomainError
from agora.core.pagination import Page
from agora.notifications import selectors, services
from agora.notifications.models import Notification
from agora.notifications.selectors import GroupPreference
from agora.notifications.services import PreferenceChange
from agora.notifications.unsubscribe import unsubscribe_read
from agora.web.access import customer_required
from agora.web.notifications.bell import NotificationBell
from agora.web.notifications.portals import PORTALS, Portal, portal_named
from agora.web.vendor_portal.current import current_staff_context

PAGE_SIZE = 20


def _person(request: HttpRequest) -> User:
    """The signed-in person. Precondition: the view is behind a portal's access check."""
    return cast(User, request.user)


def local_path(url: str) -> str | None:
    """`url` as a path on this site, or None when it leads anywhere else.

    Stored links are paths (`/account/bookings/12/`); an absolute link to this site's own
    base URL is reduced to its path. Anything else — another host, `//host`, a scheme such
    as `javascript:`, a relative path — is refused, so a notification can never be made to
    send a person off the site (an open redirect).
    """
    base = settings.AGORA_BASE_URL
    if base and (url == base or url.startswith(f"{base}/")):
        url = url[len(base) :] or "/"
    if not url.startswith("/") or url.startswith("//") or "\\" in url:
        return None
    if any(ord(character) < 0x20 or ord(character) == 0x7F for character in url):
        return None  # browsers drop tabs and newlines: "/\t/host" would become "//host"
    if not url_has_allowed_host_and_scheme(url, allowed_hosts=None):
        return None
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return None
    return url


def _staff_frame(request: HttpRequest, portal: Portal) -> dict[str, Any]:
    """What the portal's frame needs besides the page: the vendor portal names the vendor."""
    if portal.key == "vendor":
        return {"staff": current_staff_context(request)}
    return {}


def _paging(request: HttpRequest, page: Page[Notification]) -> dict[str, str | None]:
    following = None
    if page.next_cursor:
        following = f"{request.path}?{urlencode({'cursor': page.next_cursor})}"
    return {"next_url": following, "first_url": request.path if request.GET.get("cursor") else None}


def _ago(moment: datetime, now: datetime) -> str:
    if now - moment < timedelta(minutes=1):
        return "just now"
    return f"{timesince(moment, now=now, depth=1)} ago"


def _row(notification: Notification, now: datetime) -> dict[str, Any]:
    return {
        "notification": notification,
        "unread": notification.read_at is None,
        "ago": _ago(notification.created_at, now),
        "has_link": local_path(notification.url) is not None,
    }


@require_safe
def centre(request: HttpRequest, portal: str) -> HttpResponse:
    frame = PORTALS[portal]
    page = selectors.notifications_for(
        user=_person(request), cursor=request.GET.get("cursor") or None, limit=PAGE_SIZE
    )
    now = clock.now()
    return render(
        request,
        "notifications/centre.html",
        {
            "page_title": "Notifications",
            "portal": frame,
            "portal_template": frame.template,
            "rows": [_row(notification, now) for notification in page.items],
            **_paging(request, page),
            **_staff_frame(request, frame),
        },
    )


def _event_label(name: str) -> str:
    """ "booking.no_show" → "Booking no show": mandatory mail named in words."""
    return name.replace(".", " ").replace("_", " ").capitalize()


def _preference_rows(preferences: list[GroupPreference]) -> list[dict[str, Any]]:
    return [
        {
            "preference": preference,
            "always_emailed": [_event_label(name) for name in preference.mandatory_email_events],
        }
        for preference in preferences
    ]


def _changes_from_form(request: HttpRequest) -> list[PreferenceChange]:
    """One change per group the form showed (`group` fields): a checkbox left unticked is
    "off". A group whose e-mail cannot be switched off has a disabled box, which browsers
    do not send, so its e-mail is left as it is."""
    rules = selectors.group_rules()
    changes = []
    for group in request.POST.getlist("group"):
        locked = group in rules and rules[group].email_locked
        changes.append(
            PreferenceChange(
                group=group,
                email=None if locked else f"email:{group}" in request.POST,
                in_app=f"in_app:{group}" in request.POST,
            )
        )
    return changes


@require_http_methods(["GET", "HEAD", "POST"])
def preferences(request: HttpRequest, portal: str) -> HttpResponse:
    frame = PORTALS[portal]
    person = _person(request)
    if request.method == "POST":
        try:
            services.preferences_update(
                user=person, changes=_changes_from_form(request), via="page"
            )
        except DomainError as error:
            messages.error(request, error.detail)
        else:
            messages.success(request, "Your notification preferences are saved.")
            return redirect(frame.preferences_url)
    return render(
        request,
        "notifications/preferences.html",
        {
            "page_title": "Notification preferences",
            "portal": frame,
            "portal_template": frame.template,
            "rows": _preference_rows(selectors.preferences_for(user=person)),
            **_staff_frame(request, frame),
        },
    )


def _back(request: HttpRequest) -> str:
    """Where to return after an action: the form's `next` if it is on this site, else the
    centre of the form's portal."""
    return (
        local_path(request.POST.get("next", ""))
        or portal_named(request.POST.get("portal")).centre_url
    )


@customer_required
@require_POST
def mark_read(request: HttpRequest) -> HttpResponse:
    """ "Mark all as read" (`all`), or the notifications ticked (`ids`), then back."""
    if request.POST.get("all"):
        marked = services.notifications_mark_read(user=_person(request), all_unread=True)
    else:
        # Digits only, and few enough for the database's integer: anything else is no id.
        ids = [
            int(value)
            for value in request.POST.getlist("ids")
            if value.isdigit() and len(value) <= 18
        ]
        marked = services.notifications_mark_read(user=_person(request), ids=ids)
    if marked:
        messages.success(
            request, f"Marked {marked} notification{'s' if marked != 1 else ''} as read."
        )
    return redirect(_back(request))


@customer_required
@require_POST
def open_notification(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Follow a notification's link, marking it read on the way. Only a path on this site
    is followed; a notification without one (or with any other link) leads back to the
    centre. Another person's notification is a 404."""
    notification = services.notification_open(
        user=_person(request), notification_id=notification_id
    )
    return redirect(local_path(notification.url) or _back(request))


@require_safe
def bell(request: HttpRequest) -> HttpResponse:
    """The bell alone, for a page to re-fetch when a `notification.created` event arrives.
    A signed-out visitor has no bell: 204, which htmx leaves unswapped."""
    if not request.user.is_authenticated:
        response = HttpResponse(status=204)
    else:
        frame = portal_named(request.GET.get("portal"))
        response = render(
            request,
            "notifications/partials/bell.html",
            # Overrides the context processor's bell: this one belongs to the asking page's
            # portal, not to /notifications/.
            {"notification_bell": NotificationBell(request, frame)},
        )
    add_never_cache_headers(response)
    patch_cache_control(response, private=True)
    return response


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """The unsubscribe link of a mail: GET asks to confirm, POST switches the group's
    e-mail off.

    Exempt from CSRF on purpose: the signed token in the address is the credential, and a
    mail program's one-click POST (RFC 8058, `List-Unsubscribe=One-Click`) comes with no
    cookie and no CSRF token. A forged POST can do nothing the link's holder could not.
    GET changes nothing, so a mail scanner that follows links unsubscribes no one.
    """
    link = unsubscribe_read(token)
    rules = selectors.group_rules()[link.group]
    context: dict[str, Any] = {
        "page_title": "Unsubscribe",
        "noindex": True,
        "rules": rules,
        "always_emailed": [_event_label(name) for name in rules.mandatory_email_events],
        "preferences_url": "/account/notifications/preferences/",
        "done": False,
    }
    if request.method == "POST":
        preference = services.preferences_unsubscribe(user_id=link.user_id, group=link.group)
        context.update(done=True, preference=preference)
    response = render(request, "notifications/unsubscribe.html", context)
    add_never_cache_headers(response)
    response["Referrer-Policy"] = "no-referrer"  # the token is in the address
    return response
