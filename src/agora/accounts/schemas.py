from datetime import datetime

from ninja import Schema
from pydantic import Field


class RegisterIn(Schema):
    email: str = Field(max_length=254)
    password: str = Field(max_length=256)
    name: str = Field(max_length=150)


class UserOut(Schema):
    id: int
    email: str
    name: str
    roles: list[str]


class MeOut(UserOut):
    vendor_ids: list[int]
    two_factor_enabled: bool = False


class TokenIn(Schema):
    email: str = Field(max_length=254)
    password: str = Field(max_length=256)
    otp: str | None = Field(
        None,
        max_length=64,
        description="With two-factor sign-in on: a current code of the app, or a recovery code.",
    )


class TokenOut(Schema):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


# --- two-factor sign-in -------------------------------------------------------------------


class OtpIn(Schema):
    otp: str | None = Field(
        None,
        max_length=64,
        description="A current code of the authenticator app, or a recovery code.",
    )


class OtpConfirmIn(Schema):
    code: str = Field(max_length=64, description="The code the newly added app shows now.")


class TwoFactorStatusOut(Schema):
    enabled: bool
    enabled_at: datetime | None
    required: bool = Field(description="Whether this account must have it (operators).")
    recovery_codes_left: int
    enrolment_pending: bool = Field(description="An app was added but not yet confirmed.")


class TwoFactorEnrolmentOut(Schema):
    secret: str = Field(description="The TOTP secret in base32, to type into the app.")
    otpauth_url: str = Field(description="The same as an otpauth:// URL (the QR code's text).")
    qr_svg: str = Field(description="The QR code as an inline SVG element.")


class RecoveryCodesOut(Schema):
    enabled: bool = True
    recovery_codes: list[str] = Field(
        description="Ten single-use codes, shown this once: each signs in instead of a code."
    )


# --- your data ----------------------------------------------------------------------------


class AccountDeleteIn(Schema):
    password: str = Field(max_length=256)
