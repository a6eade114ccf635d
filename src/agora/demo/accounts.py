"""The three demo accounts of API.md (password `agora-demo`)."""

from typing import Any

from agora.accounts.models import User
from agora.demo import two_factor

DEMO_PASSWORD = "agora-demo"

DEMO_USERS: list[dict[str, Any]] = [
    {"email": "operator@agora.test", "name": "Olivia Operator", "is_operator": True},
    {"email": "vendor@agora.test", "name": "Victor Vendor", "is_operator": False},
    {"email": "customer@agora.test", "name": "Chloe Customer", "is_operator": False},
]


def load() -> str:
    created = 0
    for spec in DEMO_USERS:
        user = User.objects.filter(email=spec["email"]).first()
        if user is None:
            user = User(email=spec["email"], name=spec["name"])
            user.set_password(DEMO_PASSWORD)
            created += 1
        user.is_operator = spec["is_operator"]
        user.is_staff = spec["is_operator"]
        user.is_superuser = spec["is_operator"]
        user.save()
    # The operator console asks operators for two-factor sign-in: the demo operator has it,
    # with the secret published in agora.demo.two_factor.
    two_factor.enrol_demo_operator()
    return f"{len(DEMO_USERS)} demo accounts ({created} new)"


def demo_user(email: str) -> User:
    return User.objects.get(email=email)
