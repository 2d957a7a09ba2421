from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    """Review cycles, reminders, escalations and digests (tenant schemas only)."""

    name = "reviews"
    verbose_name = "Reviews"
