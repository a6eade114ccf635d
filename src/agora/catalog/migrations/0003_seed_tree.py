from django.db import migrations


def seed(apps, schema_editor):
    from agora.catalog.seed.tree import CATEGORIES, CITIES

    Category = apps.get_model("catalog", "Category")
    City = apps.get_model("catalog", "City")
    for position, spec in enumerate(CATEGORIES):
        parent = Category.objects.get(slug=spec["parent"]) if spec["parent"] else None
        Category.objects.get_or_create(
            slug=spec["slug"],
            defaults={
                "name": spec["name"],
                "parent": parent,
                "path": f"{parent.path}/{spec['slug']}" if parent else spec["slug"],
                "attribute_schema": spec["schema"],
                "description": spec["description"],
                "position": position,
            },
        )
    for spec in CITIES:
        City.objects.get_or_create(slug=spec["slug"], defaults={k: v for k, v in spec.items() if k != "slug"})


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
