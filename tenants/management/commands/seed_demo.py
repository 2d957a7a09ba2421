import logging

from django.core.management.base import BaseCommand

from tenants.demo import CONSULTANT, DEMO_PASSWORD, PLATFORM_ADMIN, seed_demo


class Command(BaseCommand):
    help = "Create the demo platform admin, consultant and organisations (acme, globex). Idempotent."

    def handle(self, *args, **options):
        # One line per created person is noise here; the summary below says it all.
        logging.getLogger("accounts.services").setLevel(logging.WARNING)
        summary = seed_demo()
        made = ", ".join(summary.created) if summary.created else "nothing new (already seeded)"
        self.stdout.write(self.style.SUCCESS(f"Demo data ready; created: {made}"))
        self.stdout.write(f"  password for every demo account: {DEMO_PASSWORD}")
        self.stdout.write(f"  platform admin: {PLATFORM_ADMIN}   consultant: {CONSULTANT}")
        for slug, url in summary.urls.items():
            self.stdout.write(f"  {slug}: {url}  (org admin ceo@{slug}.example, people *@{slug}.example)")
