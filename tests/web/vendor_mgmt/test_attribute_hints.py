"""What an operator writes in a category's attribute schema reaches vendors' pages as text.

A schema's `description`, `title` and bounds become the labels and hints of the listing
form's generated fields; Django renders a field's help text unescaped, so markup in a
description would run in every vendor's browser.
"""

from __future__ import annotations

from agora.catalog.models import Category
from tests.web.vendor_mgmt.conftest import Shop, html

SCRIPT = "<script>alert('x')</script>"


def test_schema_descriptions_are_shown_as_text_not_markup(shop: Shop) -> None:
    # Given an operator's schema property whose description and title hold markup
    category = Category.objects.get(slug="auto-parts")
    category.attribute_schema = {
        **category.attribute_schema,
        "properties": {
            **category.attribute_schema.get("properties", {}),
            "fitting_notes": {
                "type": "string",
                "title": f"Notes {SCRIPT}",
                "description": f"Say <b>how</b> it fits {SCRIPT}",
                "maxLength": 10,
            },
        },
    }
    category.save(update_fields=["attribute_schema"])

    # When a vendor opens the new-listing form, whole and as the htmx partial
    pages = [
        html(shop.as_owner.get("/vendor/listings/new/?category=auto-parts")),
        html(shop.as_owner.get("/vendor/listings/attributes/?category=auto-parts")),
    ]

    # Then the description is there, escaped, and no markup of it survives
    for page in pages:
        assert "fitting_notes" in page
        assert "Say &lt;b&gt;how&lt;/b&gt; it fits &lt;script&gt;" in page
        assert "Up to 10 characters." in page
        assert "Notes &lt;script&gt;" in page
        assert SCRIPT not in page
        assert "<b>how</b>" not in page
