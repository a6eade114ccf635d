"""Small helpers shared by the customer's views."""

from __future__ import annotations

from typing import cast

from django.http import HttpRequest

from agora.accounts.models import User


def customer(request: HttpRequest) -> User:
    """The signed-in customer. Precondition: the view is behind `customer_required`."""
    return cast(User, request.user)
