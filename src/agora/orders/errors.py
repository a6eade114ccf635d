from enum import StrEnum
from typing import Any

from agora.core.errors import DomainError


class OrderErrorCode(StrEnum):
    OUT_OF_STOCK = "out_of_stock"
    CHECKOUT_EXPIRED = "checkout_expired"
    NOT_PURCHASABLE = "not_purchasable"


class OrderError(DomainError):
    status = 409


def out_of_stock(lines: list[dict[str, Any]]) -> OrderError:
    return OrderError(
        "Not enough stock for some lines; nothing was reserved.",
        code=OrderErrorCode.OUT_OF_STOCK,
        extra={"lines": lines},
    )
