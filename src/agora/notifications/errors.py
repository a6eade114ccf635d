from enum import StrEnum

from agora.core.errors import InvalidInput, NotFound


class NotificationErrorCode(StrEnum):
    UNKNOWN_GROUP = "unknown_notification_group"
    EMAIL_LOCKED = "email_locked"
    NOTHING_TO_MARK = "nothing_to_mark"
    INVALID_UNSUBSCRIBE_LINK = "invalid_unsubscribe_link"


def unknown_group(group: str, *, index: int) -> InvalidInput:
    return InvalidInput(
        f"There is no notification group {group!r}.",
        errors=[
            {
                "loc": ["body", "groups", index, "group"],
                "msg": "unknown notification group",
                "type": "unknown_group",
            }
        ],
        code=NotificationErrorCode.UNKNOWN_GROUP,
    )


def email_locked(group: str, *, index: int) -> InvalidInput:
    return InvalidInput(
        f"Every e-mail of the group {group!r} is transactional and cannot be switched off.",
        errors=[
            {
                "loc": ["body", "groups", index, "email"],
                "msg": "transactional e-mail cannot be switched off",
                "type": "email_locked",
            }
        ],
        code=NotificationErrorCode.EMAIL_LOCKED,
    )


def nothing_to_mark() -> InvalidInput:
    return InvalidInput(
        "Say which notifications to mark as read: `ids`, or `all: true`.",
        errors=[{"loc": ["body"], "msg": "ids or all is required", "type": "missing"}],
        code=NotificationErrorCode.NOTHING_TO_MARK,
    )


def invalid_unsubscribe_link() -> NotFound:
    # 404 rather than 400: a changed or truncated link points at nothing, and answering the
    # same way for every bad token tells a prober nothing about the signature.
    return NotFound(
        "This unsubscribe link is not valid. It may have been cut short by your mail "
        "program; you can change what we e-mail you in your notification preferences.",
        code=NotificationErrorCode.INVALID_UNSUBSCRIBE_LINK,
    )
