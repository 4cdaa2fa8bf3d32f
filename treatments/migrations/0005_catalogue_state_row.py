import uuid

from django.db import migrations


def create_row(apps, schema_editor):
    apps.get_model("treatments", "CatalogueState").objects.get_or_create(
        pk=1, defaults={"token": uuid.uuid4()})


def delete_row(apps, schema_editor):
    apps.get_model("treatments", "CatalogueState").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("treatments", "0004_catalogue_state")]

    operations = [migrations.RunPython(create_row, delete_row)]
