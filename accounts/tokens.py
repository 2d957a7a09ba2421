"""Set-password / reset links that are valid only in the schema that issued them."""

from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.db import connection


class SchemaBoundTokenGenerator(PasswordResetTokenGenerator):
    """User ids repeat across organisations; binding the token to the schema means a
    link issued by one organisation can never set a password in another."""

    key_salt = "accounts.tokens.SchemaBoundTokenGenerator"

    def _make_hash_value(self, user, timestamp):
        return f"{connection.schema_name}:{super()._make_hash_value(user, timestamp)}"


set_password_token = SchemaBoundTokenGenerator()
