"""Every table of an organisation's schema moves its data version at commit (ADR 0011).
Tables added later get the triggers after their migration (``tenants.data_version``)."""

from django.db import migrations

from tenants.data_version import install_triggers, remove_triggers


def install(apps, schema_editor):
    install_triggers(schema_editor.connection)


def remove(apps, schema_editor):
    remove_triggers(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("okrs", "0005_consulting"),
        ("accounts", "0005_organization_logo"),
        ("reviews", "0003_consulting"),
        ("tenants", "0005_data_version"),
    ]

    operations = [migrations.RunPython(install, remove)]
