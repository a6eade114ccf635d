from enum import StrEnum

from agora.core.errors import DomainError


class AccountErrorCode(StrEnum):
    EMAIL_TAKEN = "email_taken"
    INVALID_CREDENTIALS = "invalid_credentials"


class AccountError(DomainError):
    status = 409
