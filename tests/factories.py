"""factory_boy factories. Tenant-side factories must run inside tenant_context."""

import factory
from django.contrib.auth.hashers import make_password

from accounts.models import Team, User


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")
    parent = None


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    full_name = factory.Faker("name")
    role = User.Role.MEMBER
    password = factory.LazyFunction(lambda: make_password("a-Long-passphrase-42"))
