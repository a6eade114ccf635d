"""A small marketplace for the payments API tests: vendor A (owner, manager-less `staff`
member), vendor B, a customer and an operator, each with an API client — and sales made
through the real payments services with the sandbox gateway."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Model

from agora.accounts.models import User
from agora.core.models import AuditLog, IdempotencyKey
from agora.core.money import Money
from agora.payments import services
from agora.payments.commission import SaleContext
from agora.payments.models import (
    CommissionRule,
    Dispute,
    DisputeEvidence,
    JournalEntry,
    JournalTransaction,
    LedgerAccount,
    Payment,
    Payout,
    PayoutSettings,
    Refund,
    SandboxCharge,
    SandboxOperation,
)
from agora.vendors.models import Vendor
from tests.conftest import ApiClient, token_for
from tests.factories import UserFactory, VendorFactory, VendorMembershipFactory

CATEGORY = "automotive/mot-servicing"

# Every row a payments request could write: a refused request changes none of them.
MONEY_MODELS: tuple[type[Model], ...] = (
    LedgerAccount,
    JournalTransaction,
    JournalEntry,
    Payment,
    Refund,
    Payout,
    PayoutSettings,
    Dispute,
    DisputeEvidence,
    CommissionRule,
    SandboxCharge,
    SandboxOperation,
    AuditLog,
    IdempotencyKey,
)


def money_rows() -> dict[str, list[dict[str, Any]]]:
    return {
        model._meta.label: list(model._default_manager.order_by("pk").values())
        for model in MONEY_MODELS
    }


def gbp(amount: int) -> Money:
    return Money(amount, "GBP")


def money(amount: int, currency: str = "GBP") -> dict[str, Any]:
    return {"amount": amount, "currency": currency}


@dataclass
class Market:
    vendor: Vendor
    owner: User
    staff: User
    rival: Vendor
    rival_owner: User
    customer: User
    operator: User
    as_owner: ApiClient
    as_staff: ApiClient
    as_rival: ApiClient
    as_customer: ApiClient
    as_operator: ApiClient
    anonymous: ApiClient

    def sell(
        self,
        booking_id: int,
        amount: int = 100_00,
        *,
        vendor: Vendor | None = None,
        listing_id: int | None = None,
        category_path: str = CATEGORY,
    ) -> Payment:
        """A paid booking `booking:<booking_id>` of `amount` pence, charged with the
        sandbox's visa card, its commission and fee frozen by the rules of the moment."""
        seller = vendor or self.vendor
        with transaction.atomic():
            return services.payment_collect(
                reference=f"booking:{booking_id}",
                amount=gbp(amount),
                payment_method="pm_card_visa",
                sale=SaleContext(
                    vendor_id=seller.pk,
                    vendor_tier=seller.tier,
                    category_path=category_path,
                    listing_id=listing_id,
                ),
                idempotency_key=f"test-sale:{booking_id}",
            )

    def released(self, booking_id: int, amount: int = 100_00) -> Payment:
        """A sale whose vendor share has reached the available balance."""
        payment = self.sell(booking_id, amount)
        assert services.escrow_release(reference=payment.reference) is True
        return payment


def make_market() -> Market:
    owner, staff, rival_owner, customer = UserFactory.create_batch(4)
    operator = UserFactory(is_operator=True, is_staff=True)
    vendor = VendorFactory(owner=owner, name="A Motors")
    VendorMembershipFactory(vendor=vendor, user=staff, role="staff")
    rival = VendorFactory(owner=rival_owner, name="B Motors")
    return Market(
        vendor=vendor,
        owner=owner,
        staff=staff,
        rival=rival,
        rival_owner=rival_owner,
        customer=customer,
        operator=operator,
        as_owner=ApiClient(token_for(owner)),
        as_staff=ApiClient(token_for(staff)),
        as_rival=ApiClient(token_for(rival_owner)),
        as_customer=ApiClient(token_for(customer)),
        as_operator=ApiClient(token_for(operator)),
        anonymous=ApiClient(),
    )
