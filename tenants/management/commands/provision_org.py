"""Create an organisation from the command line (wraps organization_provision)."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tenants.services import organization_provision, organization_url


class Command(BaseCommand):
    help = "Provision a client organisation: schema (cloned from the template), domain and first org admin."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="Subdomain, e.g. acme (becomes acme.<BASE_DOMAIN>)")
        parser.add_argument("--name", required=True, help="Display name, e.g. 'Acme Corp'")
        parser.add_argument("--admin-email", required=True, help="E-mail of the first org admin")
        parser.add_argument("--admin-name", default="", help="Full name of the first org admin")
        parser.add_argument("--timezone", default="UTC", help="IANA time zone, e.g. Asia/Shanghai")
        parser.add_argument("--language", default="en", help="Default language: en or zh-hans")
        parser.add_argument("--no-email", action="store_true", help="Do not e-mail the invitation")

    def handle(self, *args, **options):
        try:
            result = organization_provision(
                name=options["name"], slug=options["slug"], admin_email=options["admin_email"],
                admin_name=options["admin_name"], timezone=options["timezone"],
                language=options["language"], actor=None, send_invitation=not options["no_email"],
            )  # fmt: skip
        except ValidationError as exc:
            lines = [f"  {field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items()]
            raise CommandError("Nothing was created:\n" + "\n".join(lines)) from exc
        org = result.organization
        self.stdout.write(self.style.SUCCESS(f"Created {org.name} at {organization_url(org)}"))
        self.stdout.write(f"  schema {org.schema_name} via {result.method} in {result.seconds:.2f} s")
        self.stdout.write(
            f"  org admin {result.admin.email} sets a password here:\n  {result.set_password_url}"
        )
