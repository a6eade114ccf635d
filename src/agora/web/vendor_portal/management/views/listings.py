"""/vendor/listings/: the catalogue editor. Every write goes through the catalogue (and, for
stock and resources, the orders and bookings) services the API uses; owners and managers
edit, staff read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from agora.bookings.models import Resource, ResourceAssignment
from agora.bookings.services import setup
from agora.catalog import selectors as catalog_selectors
from agora.catalog import services as catalog_services
from agora.catalog.models import Category, Listing, ListingKind, ListingStatus
from agora.core.errors import DomainError, InvalidInput, NotFound
from agora.core.money import Money
from agora.orders.services import inventory
from agora.vendors.selectors import ALL_ROLES, MANAGER_ROLES, StaffContext
from agora.web.access import vendor_staff_required
from agora.web.vendor_portal.management.attributes import AttributeSpec, specs_for
from agora.web.vendor_portal.management.common import (
    TEMPLATES,
    add_domain_error,
    can_manage,
    manager_for,
    page,
    staff_for,
)
from agora.web.vendor_portal.management.forms import (
    PRODUCT_FIELDS,
    SERVICE_FIELDS,
    ImageForm,
    ListingForm,
    ResourceAssignForm,
    RestockForm,
    StockCountForm,
    VariantForm,
)

PAGE_SIZE = 25
EDIT_STATUS_CHOICES = [
    (ListingStatus.ACTIVE.value, "Published"),
    (ListingStatus.DRAFT.value, "Draft (not public)"),
    (ListingStatus.ARCHIVED.value, "Archived (hidden, kept for history)"),
]
MONEY_NAMES = {"price": "price", "price.amount": "price", "price.currency": "price"}


# --- lookups --------------------------------------------------------------------------------


def _listing(
    request: HttpRequest, staff: StaffContext, listing_id: int, roles: Any = ALL_ROLES
) -> Listing:
    """The listing through the catalogue's staff selector, and of the vendor being worked
    for: another vendor's id is a 404 like a missing one."""
    listing = catalog_selectors.listing_get_for_staff(
        user=request.user, listing_id=listing_id, roles=roles
    )
    if listing.vendor_id != staff.vendor.pk:
        raise NotFound("No such listing.")
    return listing


def _categories() -> tuple[list[Category], dict[int, Category]]:
    categories = catalog_selectors.categories_all()
    return categories, {c.pk: c for c in categories}


def _specs(slug: str | None, by_id: dict[int, Category]) -> list[AttributeSpec]:
    category = next((c for c in by_id.values() if c.slug == slug), None)
    if category is None:
        return []
    return specs_for(catalog_selectors.category_effective_schema(category, by_id))


def _listing_form(
    staff: StaffContext,
    categories: list[Category],
    specs: list[AttributeSpec],
    *,
    data: Any = None,
    initial: dict[str, Any] | None = None,
    editing: bool = False,
) -> ListingForm:
    form = ListingForm(
        data,
        initial=initial,
        currency=staff.vendor.currency,
        categories=categories,
        specs=specs,
        editing=editing,
    )
    if editing:
        form.fields["status"].choices = EDIT_STATUS_CHOICES  # type: ignore[attr-defined]
    # With scripts, a new category redraws its attribute inputs at once; without, the
    # "Show this category's attributes" button does the same with a full page.
    form.fields["category"].widget.attrs.update(
        {
            "hx-get": reverse("web:vendor-listing-attributes"),
            "hx-target": "#attribute-fields",
            "hx-trigger": "change",
        }
    )
    return form


def _unbound_copy(request: HttpRequest, form: ListingForm) -> dict[str, Any]:
    """The values typed so far, to redraw the form for another category without
    validating (and without complaining about) anything."""
    initial: dict[str, Any] = {}
    for name, field in form.fields.items():
        if name not in request.POST:
            continue
        if isinstance(field, forms.MultipleChoiceField):
            initial[name] = request.POST.getlist(name)
        else:
            initial[name] = request.POST.get(name)
    return initial


def _kind_fields(kind: str, data: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    if kind == ListingKind.SERVICE:
        return {name: data.get(name) for name in SERVICE_FIELDS}
    if kind == ListingKind.PRODUCT:
        names = ("stock", *PRODUCT_FIELDS) if creating else PRODUCT_FIELDS
        values = {name: data.get(name) for name in names}
        values["sku"] = values.get("sku") or ""
        return values
    return {}


# --- list -----------------------------------------------------------------------------------


@vendor_staff_required
@require_safe
def listing_list(request: HttpRequest) -> HttpResponse:
    staff = staff_for(request)
    status = request.GET.get("status") or None
    if status is not None and status not in ListingStatus.values:
        raise InvalidInput(
            "status must be active, draft or archived.",
            errors=[{"loc": ["query", "status"], "msg": "unknown status", "type": "enum"}],
        )
    listings = catalog_selectors.vendor_listings_for_staff(
        user=request.user,
        vendor_id=staff.vendor.pk,
        status=status,
        cursor=request.GET.get("cursor") or None,
        limit=PAGE_SIZE,
    )
    return page(
        request,
        "listings.html",
        staff,
        {
            "page_title": "Listings",
            "listings": listings.items,
            "next_cursor": listings.next_cursor,
            "status": status or "",
            "statuses": [("", "All"), *ListingStatus.choices],
        },
    )


# --- create and edit --------------------------------------------------------------------------


@vendor_staff_required
def listing_create(request: HttpRequest) -> HttpResponse:
    staff = manager_for(request)
    categories, by_id = _categories()
    if request.method != "POST":
        slug = request.GET.get("category") or ""
        kind = request.GET.get("kind") or ListingKind.SERVICE
        form = _listing_form(
            staff,
            categories,
            _specs(slug, by_id),
            initial={"kind": kind, "category": slug, "status": ListingStatus.ACTIVE, "capacity": 1},
        )
        return _form_page(request, staff, form, None)
    specs = _specs(request.POST.get("category"), by_id)
    form = _listing_form(staff, categories, specs, data=request.POST)
    if "refresh" in request.POST:
        redrawn = _listing_form(staff, categories, specs, initial=_unbound_copy(request, form))
        return _form_page(request, staff, redrawn, None)
    # Attribute values that are not even JSON are refused on the form, before the service.
    attributes = form.attributes() if form.is_valid() else {}
    if form.is_valid():
        data = form.cleaned_data
        try:
            listing = catalog_services.listing_create(
                actor=request.user,  # type: ignore[arg-type]
                vendor=staff.vendor,
                kind=data["kind"],
                title=data["title"],
                description=data["description"],
                category=data["category"],
                price=Money(data["price"], staff.vendor.currency),
                attributes=attributes,
                status=data["status"],
                **_kind_fields(data["kind"], data, creating=True),
            )
        except DomainError as error:
            add_domain_error(form, error, names={**MONEY_NAMES, **form.attribute_error_names()})
        else:
            messages.success(request, f"“{listing.title}” was created.")
            return redirect("web:vendor-listing", listing_id=listing.pk)
    return _form_page(request, staff, form, None, status=422)


@vendor_staff_required
def listing_edit(request: HttpRequest, listing_id: int) -> HttpResponse:
    staff = staff_for(request) if request.method != "POST" else manager_for(request)
    roles = MANAGER_ROLES if request.method == "POST" else ALL_ROLES
    listing = _listing(request, staff, listing_id, roles)
    categories, by_id = _categories()
    if request.method != "POST":
        specs = _specs(listing.category.slug, by_id)
        form = _listing_form(
            staff,
            categories,
            specs,
            initial=ListingForm.initial_for(listing, specs),
            editing=True,
        )
        return _edit_page(request, staff, listing, form)
    specs = _specs(request.POST.get("category"), by_id)
    form = _listing_form(staff, categories, specs, data=request.POST, editing=True)
    if "refresh" in request.POST:
        redrawn = _listing_form(
            staff, categories, specs, initial=_unbound_copy(request, form), editing=True
        )
        return _edit_page(request, staff, listing, redrawn)
    # Attribute values that are not even JSON are refused on the form, before the service.
    attributes = form.attributes() if form.is_valid() else {}
    if form.is_valid():
        data = form.cleaned_data
        changes: dict[str, Any] = {
            "title": data["title"],
            "description": data["description"],
            "category": data["category"],
            "price": Money(data["price"], staff.vendor.currency),
            "status": data["status"],
            "attributes": attributes,
            **_kind_fields(listing.kind, data, creating=False),
        }
        if listing.kind == ListingKind.SERVICE and changes.get("capacity") is None:
            changes.pop("capacity")
        for name in ("weight_grams", "low_stock_threshold"):
            if name in changes and changes[name] is None:
                changes[name] = 0
        try:
            catalog_services.listing_update(
                actor=request.user,  # type: ignore[arg-type]
                listing=listing,
                changes=changes,
            )
        except DomainError as error:
            add_domain_error(form, error, names={**MONEY_NAMES, **form.attribute_error_names()})
        else:
            messages.success(request, "Saved.")
            return redirect("web:vendor-listing", listing_id=listing.pk)
    return _edit_page(request, staff, listing, form, status=422)


@vendor_staff_required
@require_safe
def attribute_fields(request: HttpRequest) -> HttpResponse:
    """The attribute inputs of one category (htmx swaps them in when the category changes)."""
    staff = manager_for(request)
    categories, by_id = _categories()
    slug = request.GET.get("category") or ""
    form = _listing_form(staff, categories, _specs(slug, by_id))
    return render(request, TEMPLATES + "partials/attribute_fields.html", {"form": form})


def _form_page(
    request: HttpRequest,
    staff: StaffContext,
    form: ListingForm,
    listing: Listing | None,
    *,
    status: int = 200,
) -> HttpResponse:
    return page(
        request,
        "listing_form.html",
        staff,
        {"page_title": "New listing", "form": form, "listing": listing},
        status=status,
    )


def _edit_page(
    request: HttpRequest,
    staff: StaffContext,
    listing: Listing,
    form: ListingForm | None = None,
    *,
    status: int = 200,
    **forms_: Any,
) -> HttpResponse:
    """The listing's page: its form and, beside it, images, variants, stock and resource.
    A sub-form given in `forms_` (bound, with its errors) replaces the blank one."""
    currency = staff.vendor.currency
    variants = list(listing.variants.all())
    context: dict[str, Any] = {
        "page_title": f"Edit “{listing.title}”",
        "listing": listing,
        "form": form,
        "readonly": not can_manage(staff),
        "images": list(listing.images.all()),
        "variants": [
            {
                "variant": v,
                "price": Money(
                    v.price_amount if v.price_amount is not None else listing.price_amount,
                    listing.currency,
                ),
            }
            for v in variants
        ],
        "is_product": listing.kind == ListingKind.PRODUCT,
        "is_service": listing.kind == ListingKind.SERVICE,
        "image_form": ImageForm(),
    }
    if listing.kind == ListingKind.PRODUCT:
        context["variant_form"] = VariantForm(currency=currency)
        context["restock_form"] = RestockForm(variants=variants)
        context["count_form"] = StockCountForm(variants=variants)
        context["stock_total"] = sum(v.stock for v in variants) if variants else listing.stock
    if listing.kind == ListingKind.SERVICE:
        resources = list(Resource.objects.filter(vendor_id=staff.vendor.pk).order_by("name", "id"))
        assigned = (
            ResourceAssignment.objects.filter(listing_id=listing.pk)
            .values_list("resource_id", flat=True)
            .first()
        )
        context["resources"] = resources
        context["resource_form"] = ResourceAssignForm(
            initial={"resource": assigned}, resources=resources
        )
    context.update(forms_)
    if context["readonly"] and form is not None:
        for field in form.fields.values():
            field.disabled = True
    return page(request, "listing_edit.html", staff, context, status=status)


# --- status, images, variants, stock, resource ------------------------------------------------


@vendor_staff_required
@require_POST
def listing_status(request: HttpRequest, listing_id: int) -> HttpResponse:
    """Publish, unpublish (back to draft) or archive."""
    staff = manager_for(request)
    listing = _listing(request, staff, listing_id, MANAGER_ROLES)
    status = request.POST.get("status", "")
    if status not in ListingStatus.values:
        raise InvalidInput(
            "status must be active, draft or archived.",
            errors=[{"loc": ["body", "status"], "msg": "unknown status", "type": "enum"}],
        )
    catalog_services.listing_update(
        actor=request.user,  # type: ignore[arg-type]
        listing=listing,
        changes={"status": status},
    )
    label = {"active": "published", "draft": "unpublished", "archived": "archived"}[status]
    messages.success(request, f"“{listing.title}” was {label}.")
    if request.POST.get("next") == "list":
        return redirect("web:vendor-listings")
    return redirect("web:vendor-listing", listing_id=listing.pk)


@vendor_staff_required
@require_POST
def image_add(request: HttpRequest, listing_id: int) -> HttpResponse:
    staff = manager_for(request)
    listing = _listing(request, staff, listing_id, MANAGER_ROLES)
    form = ImageForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            catalog_services.listing_image_add(
                actor=request.user,  # type: ignore[arg-type]
                listing=listing,
                upload=form.cleaned_data["file"],
                alt=form.cleaned_data["alt"],
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, "Image added.")
            return redirect("web:vendor-listing", listing_id=listing.pk)
    return _edit_page(
        request, staff, listing, _blank_form(staff, listing), status=422, image_form=form
    )


@vendor_staff_required
@require_POST
def image_delete(request: HttpRequest, listing_id: int, image_id: int) -> HttpResponse:
    staff = manager_for(request)
    listing = _listing(request, staff, listing_id, MANAGER_ROLES)
    catalog_services.listing_image_delete(
        actor=request.user,  # type: ignore[arg-type]
        listing=listing,
        image_id=image_id,
    )
    messages.success(request, "Image removed.")
    return redirect("web:vendor-listing", listing_id=listing.pk)


@vendor_staff_required
@require_POST
def variant_add(request: HttpRequest, listing_id: int) -> HttpResponse:
    staff = manager_for(request)
    listing = _listing(request, staff, listing_id, MANAGER_ROLES)
    form = VariantForm(request.POST, currency=staff.vendor.currency)
    if form.is_valid():
        data = form.cleaned_data
        try:
            catalog_services.variant_create(
                actor=request.user,  # type: ignore[arg-type]
                listing=listing,
                name=data["name"],
                sku=data["sku"],
                price=Money(data["price"], staff.vendor.currency)
                if data["price"] is not None
                else None,
                stock=data["stock"],
            )
        except DomainError as error:
            if listing.kind != ListingKind.PRODUCT:
                raise  # no variant form on this page to show it on: an error page says it
            add_domain_error(form, error, names=MONEY_NAMES)
        else:
            messages.success(request, f"Variant “{data['name']}” added.")
            return redirect("web:vendor-listing", listing_id=listing.pk)
    return _edit_page(
        request, staff, listing, _blank_form(staff, listing), status=422, variant_form=form
    )


def _stock_change(
    request: HttpRequest,
    listing_id: int,
    *,
    form_class: type[RestockForm] | type[StockCountForm],
    form_name: str,
    change: Callable[[Listing, dict[str, Any]], int],
    done: str,
) -> HttpResponse:
    """Restock and stock count: one form on the product's page, one inventory service."""
    staff = manager_for(request)
    listing = _listing(request, staff, listing_id, MANAGER_ROLES)
    form = form_class(request.POST, variants=list(listing.variants.all()))
    if form.is_valid():
        try:
            level = change(listing, form.cleaned_data)
        except DomainError as error:
            if listing.kind != ListingKind.PRODUCT:
                raise
            add_domain_error(form, error, names={"variant_id": "variant"})
        else:
            messages.success(request, done.format(level=level))
            return redirect("web:vendor-listing", listing_id=listing.pk)
    return _edit_page(
        request, staff, listing, _blank_form(staff, listing), status=422, **{form_name: form}
    )


@vendor_staff_required
@require_POST
def stock_count(request: HttpRequest, listing_id: int) -> HttpResponse:
    return _stock_change(
        request,
        listing_id,
        form_class=StockCountForm,
        form_name="count_form",
        change=lambda listing, data: inventory.stock_count(
            actor=request.user,  # type: ignore[arg-type]
            listing=listing,
            variant_id=data.get("variant"),
            level=data["level"],
        ),
        done="Stock counted: {level} in stock.",
    )


@vendor_staff_required
@require_POST
def restock(request: HttpRequest, listing_id: int) -> HttpResponse:
    return _stock_change(
        request,
        listing_id,
        form_class=RestockForm,
        form_name="restock_form",
        change=lambda listing, data: inventory.restock(
            actor=request.user,  # type: ignore[arg-type]
            listing=listing,
            variant_id=data.get("variant"),
            quantity=data["quantity"],
        ),
        done="Restocked: {level} now in stock.",
    )


@vendor_staff_required
@require_POST
def resource_assign(request: HttpRequest, listing_id: int) -> HttpResponse:
    staff = manager_for(request)
    listing = _listing(request, staff, listing_id, MANAGER_ROLES)
    resources = list(Resource.objects.filter(vendor_id=staff.vendor.pk).order_by("name", "id"))
    form = ResourceAssignForm(request.POST, resources=resources)
    if form.is_valid():
        try:
            setup.resource_assign(
                actor=request.user,  # type: ignore[arg-type]
                listing=listing,
                resource_id=form.cleaned_data["resource"],
            )
        except DomainError as error:
            if listing.kind != ListingKind.SERVICE:
                raise
            add_domain_error(form, error, names={"resource_id": "resource"})
        else:
            messages.success(request, "Capacity setting saved.")
            return redirect("web:vendor-listing", listing_id=listing.pk)
    return _edit_page(
        request, staff, listing, _blank_form(staff, listing), status=422, resource_form=form
    )


def _blank_form(staff: StaffContext, listing: Listing) -> ListingForm:
    categories, by_id = _categories()
    specs = _specs(listing.category.slug, by_id)
    return _listing_form(
        staff, categories, specs, initial=ListingForm.initial_for(listing, specs), editing=True
    )
