import copy
from datetime import UTC, datetime, timedelta

import factory

from agora.accounts.models import User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", "pass-word-123")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # type: ignore[no-untyped-def]
        if create:
            obj.save()
            if obj.is_operator:
                # Operators must have two-factor sign-in (AGORA_REQUIRE_OPERATOR_2FA), as
                # in production: a test operator has an authenticator app, and token_for
                # signs them in with its current code.
                enrol_two_factor(obj)


def enrol_two_factor(user):  # type: ignore[no-untyped-def]
    """Give `user` a confirmed TOTP device (as two_factor_enrol_confirm would, without its
    audit row and recovery codes); the device is returned for computing codes."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from agora.accounts.two_factor import codes
    from agora.core import clock

    device = TOTPDevice.objects.create(
        user=user, name="Test authenticator", confirmed=True, key=codes.new_secret_hex()
    )
    user.otp_enabled_at = clock.now()
    user.save(update_fields=["otp_enabled_at"])
    return device


def current_totp_code(user, *, fresh: bool = False):  # type: ignore[no-untyped-def]
    """The code `user`'s authenticator app shows now (agora's clock). `fresh` forgets the
    last step accepted, as if the next 30-second code had come: for helpers that sign the
    same person in several times within one step."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from agora.accounts.two_factor import codes
    from agora.core import clock

    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
    if fresh:
        TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
    return codes.totp_code_at(device.key, clock.now(), step=device.step, t0=device.t0)


# --- vendors and catalogue ----------------------------------------------------------------


def _city(slug: str = "london"):  # type: ignore[no-untyped-def]
    from agora.catalog.models import City

    return City.objects.get(slug=slug)


def _category(slug: str):  # type: ignore[no-untyped-def]
    from agora.catalog.models import Category

    return Category.objects.get(slug=slug)


class VendorFactory(factory.django.DjangoModelFactory):
    """An active vendor in London selling in GBP; `owner=user` also makes them its owner."""

    class Meta:
        model = "vendors.Vendor"
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Vendor {n}")
    slug = factory.Sequence(lambda n: f"vendor-{n}")
    timezone = "Europe/London"
    currency = "GBP"
    status = "active"
    city = factory.LazyFunction(_city)
    lat = factory.LazyAttribute(lambda o: o.city.lat if o.city else None)
    lng = factory.LazyAttribute(lambda o: o.city.lng if o.city else None)

    @factory.post_generation
    def owner(obj, create, extracted, **kwargs):  # type: ignore[no-untyped-def]
        if create and extracted is not None:
            VendorMembershipFactory(vendor=obj, user=extracted, role="owner")


class VendorMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "vendors.VendorMembership"

    vendor = factory.SubFactory(VendorFactory)
    user = factory.SubFactory(UserFactory)
    role = "staff"


class ListingFactory(factory.django.DjangoModelFactory):
    """An active one-hour service in mot-servicing, priced in its vendor's currency."""

    class Meta:
        model = "catalog.Listing"

    vendor = factory.SubFactory(VendorFactory)
    category = factory.LazyFunction(lambda: _category("mot-servicing"))
    kind = "service"
    title = factory.Sequence(lambda n: f"Listing {n}")
    status = "active"
    price_amount = 5000
    currency = factory.LazyAttribute(lambda o: o.vendor.currency)
    duration_minutes = factory.LazyAttribute(lambda o: 60 if o.kind == "service" else None)
    attributes = factory.LazyFunction(dict)


class ProductVariantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "catalog.ProductVariant"

    listing = factory.SubFactory(ListingFactory, kind="product", stock=10)
    name = factory.Sequence(lambda n: f"Variant {n}")
    stock = 5


class PriceRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "catalog.PriceRule"

    listing = factory.SubFactory(ListingFactory)
    dimension = "urgency"
    option = factory.Sequence(lambda n: f"option-{n}")
    adjustment = "addon"
    amount = 1000


class ListingImageFactory(factory.django.DjangoModelFactory):
    """An image row whose files need not exist (for query counts and serialisation)."""

    class Meta:
        model = "catalog.ListingImage"

    listing = factory.SubFactory(ListingFactory)
    image = factory.Sequence(lambda n: f"listings/test/{n}.png")
    thumbnail = factory.Sequence(lambda n: f"listings/thumbs/test/{n}.jpg")
    width = 800
    height = 600


# --- availability and bookings ------------------------------------------------------------

WEEKDAYS_9_TO_5 = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


class VendorScheduleFactory(factory.django.DjangoModelFactory):
    """Opening hours: Monday to Friday, 09:00–17:00 in the vendor's time zone."""

    class Meta:
        model = "bookings.VendorSchedule"

    vendor = factory.SubFactory(VendorFactory)
    weekly = factory.LazyFunction(lambda: copy.deepcopy(WEEKDAYS_9_TO_5))
    overrides = factory.LazyFunction(list)
    holidays = factory.LazyFunction(list)


def _now():  # type: ignore[no-untyped-def]
    from agora.core import clock

    return clock.now()


def _capacity_unit(listing):  # type: ignore[no-untyped-def]
    from agora.bookings.models import CapacityUnit

    return CapacityUnit.objects.get_or_create(
        listing=listing, defaults={"vendor_id": listing.vendor_id}
    )[0]


class BookingFactory(factory.django.DjangoModelFactory):
    """A booking row written directly (no slot checks, no payment): for reads, lists and
    refusals. `start` defaults to 2026-01-06 10:00 UTC; the hold lasts ten minutes from
    agora's (possibly frozen) clock."""

    class Meta:
        model = "bookings.Booking"

    listing = factory.SubFactory(ListingFactory)
    vendor = factory.LazyAttribute(lambda o: o.listing.vendor)
    customer = factory.SubFactory(UserFactory)
    unit = factory.LazyAttribute(lambda o: _capacity_unit(o.listing))
    exclusive_unit_id = factory.LazyAttribute(
        lambda o: o.unit.pk if o.listing.capacity == 1 else None
    )
    status = "held"
    start = factory.LazyFunction(lambda: datetime(2026, 1, 6, 10, 0, tzinfo=UTC))
    end = factory.LazyAttribute(lambda o: o.start + timedelta(minutes=o.listing.duration_minutes))
    blocked_from = factory.LazyAttribute(lambda o: o.start)
    blocked_until = factory.LazyAttribute(lambda o: o.end)
    hold_expires_at = factory.LazyFunction(lambda: _now() + timedelta(minutes=10))
    price_amount = factory.LazyAttribute(lambda o: o.listing.price_amount)
    currency = factory.LazyAttribute(lambda o: o.listing.currency)


# --- goods --------------------------------------------------------------------------------


class ProductFactory(ListingFactory):
    """An active product in tools-supplies: 10 in stock, 500 g, priced in its vendor's
    currency."""

    category = factory.LazyFunction(lambda: _category("tools-supplies"))
    kind = "product"
    stock = 10
    weight_grams = 500
