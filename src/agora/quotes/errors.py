from enum import StrEnum

from agora.core.errors import DomainError


class QuoteErrorCode(StrEnum):
    QUOTE_EXPIRED = "quote_expired"
    QUOTE_REVISED = "quote_revised"
    NO_VENDOR_LISTING = "no_vendor_listing"
    START_REQUIRED = "start_required"


class QuoteError(DomainError):
    status = 409


def quote_expired(detail: str = "This quote is no longer valid; ask for a new one.") -> QuoteError:
    return QuoteError(detail, code=QuoteErrorCode.QUOTE_EXPIRED)
