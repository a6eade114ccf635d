from enum import StrEnum

from agora.core.errors import DomainError


class AccountErrorCode(StrEnum):
    EMAIL_TAKEN = "email_taken"
    INVALID_CREDENTIALS = "invalid_credentials"
    # two-factor sign-in
    OTP_REQUIRED = "otp_required"
    OTP_INVALID = "otp_invalid"
    OTP_ENROLMENT_REQUIRED = "otp_enrolment_required"
    OTP_ENROLMENT_NOT_STARTED = "otp_enrolment_not_started"
    OTP_NOT_ENABLED = "otp_not_enabled"
    OTP_REQUIRED_FOR_OPERATORS = "otp_required_for_operators"
    # deleting an account
    ACCOUNT_HAS_OBLIGATIONS = "account_has_obligations"


class AccountError(DomainError):
    status = 409
