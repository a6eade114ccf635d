"""Two-factor sign-in for the demo operator, with a published secret.

Operators must use two-factor sign-in (AGORA_REQUIRE_OPERATOR_2FA). So that anyone can try
the demo's operator console, the demo operator's authenticator secret is fixed and printed
here and in the README: add it to any authenticator app (or compute the code, e.g.
`oathtool --totp -b <secret>`) and sign in with it after the password. Demo data only.
"""

from django_otp.plugins.otp_totp.models import TOTPDevice

from agora.accounts.models import User
from agora.accounts.two_factor import codes
from agora.core import clock

DEMO_OPERATOR_EMAIL = "operator@agora.test"
DEMO_OPERATOR_TOTP_SECRET = "AGORADEMOOPERATORTOTPSECRET2FA77"


def enrol_demo_operator() -> bool:
    """Give the demo operator its TOTP device, unless it has two-factor sign-in already;
    True when it was added now."""
    operator = User.objects.filter(email=DEMO_OPERATOR_EMAIL).first()
    if operator is None or operator.otp_enabled_at is not None:
        return False
    TOTPDevice.objects.filter(user=operator).delete()
    TOTPDevice.objects.create(
        user=operator,
        name="Demo authenticator",
        confirmed=True,
        key=codes.key_hex_from_base32(DEMO_OPERATOR_TOTP_SECRET),
    )
    operator.otp_enabled_at = clock.now()
    operator.save(update_fields=["otp_enabled_at"])
    return True


def load() -> str:
    enrol_demo_operator()  # done by the accounts step already, unless it was skipped
    return (
        f"{DEMO_OPERATOR_EMAIL} signs in with a code from the TOTP secret "
        f"{DEMO_OPERATOR_TOTP_SECRET} (any authenticator app)"
    )
