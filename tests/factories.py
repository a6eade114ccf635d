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
