"""The admin home page's count of recent Celery task failures (``tenants.task_failures``)."""

from django import template

from tenants.task_failures import task_failures_recent_count

register = template.Library()


@register.simple_tag
def task_failures_last_day() -> int:
    return task_failures_recent_count(hours=24)
