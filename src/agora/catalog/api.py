from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from agora.accounts.auth import acting_user, bearer, operator, optional_user
from agora.catalog import selectors, services
from agora.catalog.models import Category
from agora.catalog.pricing import PriceRuleSpec, PricingError, resolve_price
from agora.catalog.schemas import (
    CategoryIn,
    CategoryOut,
    CategoryPatchIn,
    CityIn,
    CityOut,
    ImageOut,
    ListingIn,
    ListingOut,
    ListingPatchIn,
    PriceLineOut,
    PriceQuoteOut,
    PriceRuleOut,
    PriceRulesIn,
    VariantIn,
    VariantOut,
)
from agora.core.caching import cache_read
from agora.core.errors import InvalidInput
from agora.core.money import MoneySchema
from agora.core.pagination import PageOut
from agora.vendors.selectors import MANAGER_ROLES, membership_get, vendor_get_for_staff

router = Router(tags=["catalog"])
operator_router = Router(tags=["operator"])


def _category_out(category: Category, by_id: dict[int, Category]) -> CategoryOut:
    parent = by_id.get(category.parent_id) if category.parent_id else None
    return CategoryOut(
        slug=category.slug,
        name=category.name,
        parent=parent.slug if parent else None,
        path=category.path,
        description=category.description,
        attribute_schema=selectors.category_effective_schema(category, by_id),
        own_attribute_schema=category.attribute_schema,
    )


@router.get("/categories", response=list[CategoryOut], summary="The category tree, root first")
def category_list(request: HttpRequest) -> list[CategoryOut]:
    categories = selectors.categories_all()
    by_id = {c.pk: c for c in categories}
    return [_category_out(c, by_id) for c in categories]


@operator_router.post("/operator/categories", response={201: CategoryOut}, auth=operator)
def category_create(request: HttpRequest, payload: CategoryIn) -> Status[CategoryOut]:
    category = services.category_create(actor=acting_user(request), **payload.dict())
    by_id = {c.pk: c for c in selectors.categories_all()}
    return Status(201, _category_out(category, by_id))


@operator_router.patch("/operator/categories/{slug}", response=CategoryOut, auth=operator)
def category_update(request: HttpRequest, slug: str, payload: CategoryPatchIn) -> CategoryOut:
    category = selectors.category_get(slug=slug)
    category = services.category_update(
        actor=acting_user(request), category=category, **payload.dict(exclude_unset=True)
    )
    by_id = {c.pk: c for c in selectors.categories_all()}
    return _category_out(category, by_id)


@router.get("/cities", response=list[CityOut], summary="Cities with vendors")
def city_list(request: HttpRequest) -> list[CityOut]:
    return [CityOut.of(c) for c in selectors.cities_all()]


@operator_router.post("/operator/cities", response={201: CityOut}, auth=operator)
def city_create(request: HttpRequest, payload: CityIn) -> Status[CityOut]:
    city = services.city_create(actor=acting_user(request), **payload.dict())
    return Status(201, CityOut.of(city))


# --- listings (GET /listings, the search, is in agora.search.api) -----------------------


@router.post(
    "/vendors/{vendor_id}/listings",
    response={201: ListingOut},
    auth=bearer,
    summary="Publish a listing",
)
def listing_create(request: HttpRequest, vendor_id: int, payload: ListingIn) -> Status[ListingOut]:
    user = acting_user(request)
    vendor = vendor_get_for_staff(user=user, vendor_id=vendor_id, roles=MANAGER_ROLES)
    data = payload.dict(exclude={"price"})
    listing = services.listing_create(
        actor=user, vendor=vendor, price=payload.price.to_money(), **data
    )
    return Status(
        201, ListingOut.of(selectors.listing_get_for_staff(user=user, listing_id=listing.pk))
    )


@router.get(
    "/vendors/{vendor_id}/listings", response=PageOut[ListingOut], summary="A vendor's listings"
)
def vendor_listings(
    request: HttpRequest,
    vendor_id: int,
    status: str | None = None,
    cursor: str | None = None,
    limit: int = 20,
) -> PageOut[ListingOut]:
    """Anyone sees the vendor's public listings; its own staff see every status."""
    user = optional_user(request)
    if membership_get(user=user, vendor_id=vendor_id) is not None:
        page = selectors.vendor_listings_for_staff(
            user=user, vendor_id=vendor_id, status=status, cursor=cursor, limit=limit
        )
    else:
        page = selectors.listings_search(
            filters=selectors.ListingFilters(vendor_id=vendor_id),
            cursor=cursor,
            limit=limit,
            with_facets=False,
        ).page
    return PageOut[ListingOut](
        items=[ListingOut.of(x) for x in page.items], next_cursor=page.next_cursor
    )


@router.get("/listings/{listing_id}", response=ListingOut, summary="A listing")
def listing_detail(request: HttpRequest, response: HttpResponse, listing_id: int) -> ListingOut:
    user = optional_user(request)
    listing = selectors.listing_get_visible(user=user, listing_id=listing_id)
    cache_read(response, public=user is None)  # anonymous callers only ever see public ones
    return ListingOut.of(listing)


@router.patch("/listings/{listing_id}", response=ListingOut, auth=bearer, summary="Edit a listing")
def listing_update(request: HttpRequest, listing_id: int, payload: ListingPatchIn) -> ListingOut:
    user = acting_user(request)
    listing = selectors.listing_get_for_staff(user=user, listing_id=listing_id, roles=MANAGER_ROLES)
    changes = payload.dict(exclude_unset=True)
    if "price" in changes:
        if payload.price is None:
            raise InvalidInput(
                "price cannot be null.",
                errors=[{"loc": ["body", "price"], "msg": "required", "type": "missing"}],
            )
        changes["price"] = payload.price.to_money()
    services.listing_update(actor=user, listing=listing, changes=changes)
    return ListingOut.of(selectors.listing_get_for_staff(user=user, listing_id=listing_id))


@router.post(
    "/listings/{listing_id}/variants",
    response={201: VariantOut},
    auth=bearer,
    summary="Add a variant",
)
def variant_create(request: HttpRequest, listing_id: int, payload: VariantIn) -> Status[VariantOut]:
    user = acting_user(request)
    listing = selectors.listing_get_for_staff(user=user, listing_id=listing_id, roles=MANAGER_ROLES)
    data = payload.dict(exclude={"price"})
    variant = services.variant_create(
        actor=user,
        listing=listing,
        price=payload.price.to_money() if payload.price else None,
        **data,
    )
    return Status(
        201,
        VariantOut(
            id=variant.pk,
            name=variant.name,
            sku=variant.sku,
            price=MoneySchema(
                amount=variant.price_amount
                if variant.price_amount is not None
                else listing.price_amount,
                currency=listing.currency,
            ),
            stock=variant.stock,
            low_stock_threshold=variant.low_stock_threshold,
            attributes=variant.attributes,
        ),
    )


@router.put(
    "/listings/{listing_id}/price-rules",
    response=list[PriceRuleOut],
    auth=bearer,
    summary="Replace price rules",
)
def price_rules_replace(
    request: HttpRequest, listing_id: int, payload: PriceRulesIn
) -> list[PriceRuleOut]:
    user = acting_user(request)
    listing = selectors.listing_get_for_staff(user=user, listing_id=listing_id, roles=MANAGER_ROLES)
    rules = services.price_rules_replace(
        actor=user, listing=listing, rules=[r.dict() for r in payload.rules]
    )
    return [PriceRuleOut.from_orm(rule) for rule in rules]


class PriceSelection(Schema):
    skill_tier: str | None = None
    urgency: str | None = None
    complexity: str | None = None


@router.get(
    "/listings/{listing_id}/price", response=PriceQuoteOut, summary="Price for chosen options"
)
def listing_price(
    request: HttpRequest, listing_id: int, selection: Query[PriceSelection]
) -> PriceQuoteOut:
    listing = selectors.listing_get_visible(user=optional_user(request), listing_id=listing_id)
    rules = [
        PriceRuleSpec(r.dimension, r.option, r.adjustment, r.amount, r.multiplier_bp, r.label)
        for r in listing.price_rules.all()
    ]
    chosen = {k: v for k, v in selection.dict().items() if v}
    try:
        quote = resolve_price(base=listing.price, rules=rules, selection=chosen)
    except PricingError as error:
        raise InvalidInput(
            str(error),
            errors=[{"loc": ["query", error.dimension], "msg": str(error), "type": "enum"}],
        ) from error
    return PriceQuoteOut(
        base=MoneySchema.of(quote.base),
        lines=[
            PriceLineOut(
                dimension=line.dimension,
                option=line.option,
                label=line.label,
                amount=MoneySchema(amount=line.amount, currency=quote.base.currency),
            )
            for line in quote.lines
        ],
        total=MoneySchema.of(quote.total),
    )


@router.post(
    "/listings/{listing_id}/images", response={201: ImageOut}, auth=bearer, summary="Add an image"
)
def listing_image_add(
    request: HttpRequest, listing_id: int, file: File[UploadedFile], alt: Form[str] = ""
) -> Status[ImageOut]:
    user = acting_user(request)
    listing = selectors.listing_get_for_staff(user=user, listing_id=listing_id, roles=MANAGER_ROLES)
    image = services.listing_image_add(actor=user, listing=listing, upload=file, alt=alt)
    return Status(201, ImageOut.of(image))


@router.delete("/listings/{listing_id}/images/{image_id}", response={204: None}, auth=bearer)
def listing_image_delete(request: HttpRequest, listing_id: int, image_id: int) -> HttpResponse:
    user = acting_user(request)
    listing = selectors.listing_get_for_staff(user=user, listing_id=listing_id, roles=MANAGER_ROLES)
    services.listing_image_delete(actor=user, listing=listing, image_id=image_id)
    return HttpResponse(status=204)
