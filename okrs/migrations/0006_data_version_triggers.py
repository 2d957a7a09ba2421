"""Every table of an organisation's schema moves its data version at commit (ADR 0011).
Tables added later get the triggers after their migration (``tenants.data_version``)."""

from django.db import migrations

from tenants.data_version import TRIGGER, TRUNCATE_TRIGGER, install_triggers


def install(apps, schema_editor):
    install_triggers(schema_editor.connection)


def remove(apps, schema_editor):
    conn = schema_editor.connection
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND t.tgname IN (%s, %s)",
            [conn.schema_name, TRIGGER, TRUNCATE_TRIGGER],
        )
        for table, trigger in cursor.fetchall():
            cursor.execute(f"DROP TRIGGER {conn.ops.quote_name(trigger)} ON {conn.ops.quote_name(table)}")


class Migration(migrations.Migration):
    dependencies = [
        ("okrs", "0005_consulting"),
        ("accounts", "0005_organization_logo"),
        ("reviews", "0003_consulting"),
        ("tenants", "0005_data_version"),
    ]

    operations = [migrations.RunPython(install, remove)]
