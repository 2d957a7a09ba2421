from django.apps import AppConfig


class OkrsConfig(AppConfig):
    """Objectives, key results, check-ins, KPIs and scoring (tenant schemas only)."""

    name = "okrs"
    verbose_name = "OKRs"
