from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Organisations"

    def ready(self):
        from celery.signals import task_failure

        from tenants.task_failures import record_task_failure

        # Task failures are recorded for the platform admin (tenants.task_failures).
        task_failure.connect(record_task_failure, dispatch_uid="tenants.record_task_failure")
