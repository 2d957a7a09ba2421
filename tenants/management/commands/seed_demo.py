import logging

from django.core.management.base import BaseCommand

from tenants.demo import CONSULTANTS, DEMO_PASSWORD, PLATFORM_ADMIN, seed_demo


class Command(BaseCommand):
    help = (
        "Create the demo platform admin, two consultants, organisations (acme, globex and three smaller "
        "clients), the consultants' assignments and a method pack. Idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-portfolio", action="store_true",
            help="Only acme and globex: no smaller clients, assignments or method pack.",
        )  # fmt: skip

    def handle(self, *args, **options):
        # One line per created person is noise here; the summary below says it all.
        logging.getLogger("accounts.services").setLevel(logging.WARNING)
        summary = seed_demo(portfolio=not options["no_portfolio"])
        made = ", ".join(summary.created) if summary.created else "nothing new (already seeded)"
        self.stdout.write(self.style.SUCCESS(f"Demo data ready; created: {made}"))
        self.stdout.write(f"  password for every demo account: {DEMO_PASSWORD}")
        consultants = ", ".join(email for email, _name in CONSULTANTS)
        self.stdout.write(f"  platform admin: {PLATFORM_ADMIN}   consultants: {consultants}")
        self.stdout.write("  consultant portal: the public host's /portal/ (sign in there)")
        for slug, url in summary.urls.items():
            admin = f"ceo@{slug}.example" if slug in ("acme", "globex") else f"admin@{slug}.example"
            self.stdout.write(f"  {slug}: {url}  (org admin {admin}, people *@{slug}.example)")
