from django.db import migrations

# The questions each category asks with a quote request, and its matching settings.
# Operators change them per category; a category without its own inherits its parent's.
SETTINGS = {
    "automotive": {"default_radius_km": 30},
    "car-repairs": {
        "request_schema": {
            "type": "object",
            "properties": {
                "registration": {"type": "string", "maxLength": 10, "title": "Registration"},
                "symptoms": {"type": "string", "maxLength": 500, "title": "What is wrong"},
                "drivable": {"type": "boolean", "title": "Can the car be driven?"},
            },
        },
        "response_sla_minutes": 240,
    },
    "tyres": {
        "request_schema": {
            "type": "object",
            "properties": {
                "tyre_size": {"type": "string", "maxLength": 20, "title": "Tyre size (e.g. 205/55 R16)"},
                "tyres": {"type": "integer", "minimum": 1, "maximum": 5, "title": "How many tyres"},
            },
        },
        "assignment_mode": "automatic",
        "assignment_deadline_minutes": 10,
    },
    "home-services": {"default_radius_km": 25},
    "electricians": {
        "request_schema": {
            "type": "object",
            "properties": {
                "job_type": {"enum": ["fault", "rewiring", "ev_charger", "certificate", "other"], "title": "Kind of job"},
                "property_type": {"enum": ["flat", "house", "commercial"], "title": "Property"},
            },
            "required": ["job_type"],
        },
    },
    "plumbers": {
        "request_schema": {
            "type": "object",
            "properties": {
                "job_type": {"enum": ["leak", "boiler", "bathroom", "heating", "other"], "title": "Kind of job"},
                "water_off": {"type": "boolean", "title": "Is the water turned off?"},
            },
            "required": ["job_type"],
        },
        "response_sla_minutes": 60,
    },
    "cleaning": {
        "request_schema": {
            "type": "object",
            "properties": {
                "clean_type": {"enum": ["regular", "deep", "end_of_tenancy"], "title": "Kind of clean"},
                "bedrooms": {"type": "integer", "minimum": 1, "maximum": 12, "title": "Bedrooms"},
            },
        },
    },
}


def seed(apps, schema_editor):
    Category = apps.get_model("catalog", "Category")
    Settings = apps.get_model("quotes", "QuoteCategorySettings")
    for slug, values in SETTINGS.items():
        category = Category.objects.filter(slug=slug).first()
        if category is not None:
            Settings.objects.get_or_create(category=category, defaults=values)


class Migration(migrations.Migration):
    dependencies = [("quotes", "0001_initial"), ("catalog", "0003_seed_tree")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
