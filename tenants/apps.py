from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Organisations"

    def ready(self):
        from celery.signals import task_failure
        from django.db.models.signals import post_migrate

        from tenants.data_version import install_after_migrate
        from tenants.task_failures import record_task_failure

        # Task failures are recorded for the platform admin (tenants.task_failures).
        task_failure.connect(record_task_failure, dispatch_uid="tenants.record_task_failure")
        # Tables a migration adds to an organisation's schema move its data version (ADR 0011).
        post_migrate.connect(install_after_migrate, sender=self, dispatch_uid="tenants.data_version")
