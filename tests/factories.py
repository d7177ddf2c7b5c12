"""factory_boy factories for the test suite."""

import factory
from django.contrib.auth import get_user_model

from accounts import services
from accounts.models import Membership, Organisation, OrganisationKind, Role


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")
    slug = factory.Sequence(lambda n: f"organisation-{n}")
    kind = OrganisationKind.MUNICIPALITY
    contact_email = factory.LazyAttribute(lambda o: f"contact@{o.slug}.example")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"person-{n}")
    password = factory.django.Password("correct horse battery staple")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = Role.ANALYST


def api_key_for(organisation, role=Role.INTEGRATOR, **kwargs):
    """Create a key and return (ApiKey, secret)."""
    return services.api_key_create(organisation=organisation, name=kwargs.pop("name", "test key"), role=role, **kwargs)
