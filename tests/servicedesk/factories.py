"""Factories of the tenancy core."""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from servicedesk.models import (
    ApiToken,
    Invitation,
    Membership,
    Role,
    Team,
    Tenant,
    User,
    hash_api_token,
    new_api_token_secret,
)

PASSWORD = "test-password-1"


class TenantFactory(DjangoModelFactory):
    class Meta:
        model = Tenant
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"tenant-{n}")
    name = factory.LazyAttribute(lambda o: f"{o.slug.title()} Ltd")
    timezone = "Europe/Berlin"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership

    tenant = factory.SubFactory(TenantFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.REQUESTER


class TeamFactory(DjangoModelFactory):
    class Meta:
        model = Team

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.Sequence(lambda n: f"team-{n}")


class InvitationFactory(DjangoModelFactory):
    class Meta:
        model = Invitation

    tenant = factory.SubFactory(TenantFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.org")
    role = Role.AGENT


class ApiTokenFactory(DjangoModelFactory):
    """A token straight in the table (no audit event); ``.secret`` holds the
    secret, which only exists in memory. The owner's membership is up to the
    caller."""

    class Meta:
        model = ApiToken

    tenant = factory.SubFactory(TenantFactory)
    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Integration {n}")
    secret = factory.LazyFunction(new_api_token_secret)
    prefix = factory.LazyAttribute(lambda o: o.secret[:8])
    key_hash = factory.LazyAttribute(lambda o: hash_api_token(o.secret))
    scopes = factory.LazyFunction(lambda: ["tickets:read"])

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        secret = kwargs.pop("secret")
        token = super()._create(model_class, *args, **kwargs)
        token.secret = secret
        return token
