from django.db import migrations, models

from tenants.data_version import CREATE_FUNCTION, DROP_FUNCTION


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0004_task_failures"),
    ]

    operations = [
        migrations.CreateModel(
            name="DataVersion",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("schema_name", models.CharField(max_length=63, unique=True)),
                ("version", models.BigIntegerField()),
            ],
        ),
        migrations.RunSQL(CREATE_FUNCTION, DROP_FUNCTION),
    ]
