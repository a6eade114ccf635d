from enum import StrEnum

from agora.core.errors import DomainError


class CatalogErrorCode(StrEnum):
    SLUG_TAKEN = "slug_taken"
    CATEGORY_IN_USE = "category_in_use"


class CatalogError(DomainError):
    status = 409
