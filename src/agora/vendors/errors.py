from enum import StrEnum

from agora.core.errors import DomainError


class VendorErrorCode(StrEnum):
    SLUG_TAKEN = "slug_taken"
    ALREADY_MEMBER = "already_member"
    LAST_OWNER = "last_owner"
    INVITATION_INVALID = "invitation_invalid"
    DOCUMENT_INVALID = "document_invalid"


class VendorError(DomainError):
    status = 409
