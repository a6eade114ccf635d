from enum import StrEnum

from agora.core.errors import DomainError


class ReviewErrorCode(StrEnum):
    NOT_REVIEWABLE = "not_reviewable"
    ALREADY_REVIEWED = "already_reviewed"
    EDIT_WINDOW_CLOSED = "edit_window_closed"
    NOT_EDITABLE = "not_editable"
    ALREADY_REPLIED = "already_replied"


class ReviewError(DomainError):
    status = 409


def not_reviewable(detail: str) -> ReviewError:
    return ReviewError(detail, code=ReviewErrorCode.NOT_REVIEWABLE)


def already_reviewed() -> ReviewError:
    return ReviewError(
        "This has already been reviewed; edit the review instead.",
        code=ReviewErrorCode.ALREADY_REVIEWED,
    )
