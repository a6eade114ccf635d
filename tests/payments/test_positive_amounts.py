"""Money moves only in amounts above zero: a payout, refund or dispute of nothing or of
less than nothing is refused as bad input (422) by the services themselves, so the pages'
forms and the API agree — and nothing is posted."""

from __future__ import annotations

from typing import Any

import pytest

from agora.core.errors import InvalidInput
from agora.payments import services
from tests.payments.market import Market, gbp, make_market, money_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def market(db: Any) -> Market:
    return make_market()


@pytest.mark.parametrize("amount", [0, -1, -5000])
def test_the_services_refuse_amounts_of_zero_or_less(market: Market, amount: int) -> None:
    market.released(1)
    before = money_rows()

    with pytest.raises(InvalidInput) as payout:
        services.payout_create(
            vendor_id=market.vendor.pk,
            currency="GBP",
            amount=gbp(amount),
            idempotency_key="p",
            actor=market.owner,
        )
    with pytest.raises(InvalidInput) as refund:
        services.refund_create(
            reference="booking:1", amount=gbp(amount), reason="r", actor=None, idempotency_key="r"
        )
    with pytest.raises(InvalidInput) as dispute:
        services.dispute_open(
            reference="booking:1", amount=gbp(amount), reason="r", actor=None, idempotency_key="d"
        )

    for refused in (payout, refund, dispute):
        assert refused.value.extra["errors"] == [
            {"loc": ["body", "amount"], "msg": "must be more than 0", "type": "value_error"}
        ]
    assert money_rows() == before
