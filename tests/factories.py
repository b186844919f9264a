"""factory_boy factories: they build starting states only. Later states are
reached through the real services, as users reach them."""

import factory

from accounts.models import Membership, Organisation, OrgKind, User
from accounts.services import organisation_create


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.test")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"User {n}")
    password = factory.PostGenerationMethodCall("set_password", "test-Password-123")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: ANN001, ANN003, N805
        if create:
            obj.save()


class _OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    @classmethod
    def _create(cls, model_class, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN206
        return organisation_create(**kwargs)


class OfficeFactory(_OrganisationFactory):
    kind = OrgKind.TREASURY_OFFICE
    code = factory.Sequence(lambda n: f"{5000 + n:04d}")
    name = factory.Sequence(lambda n: f"Kho bạc thử nghiệm {n}")
    parent = None


class UnitFactory(_OrganisationFactory):
    kind = OrgKind.UNIT
    code = factory.Sequence(lambda n: f"{1500000 + n:07d}")
    name = factory.Sequence(lambda n: f"Đơn vị thử nghiệm {n}")
    office = factory.SubFactory(OfficeFactory)


class SupplierFactory(_OrganisationFactory):
    kind = OrgKind.SUPPLIER
    code = factory.Sequence(lambda n: f"{9000000000 + n}")
    name = factory.Sequence(lambda n: f"Nhà cung cấp {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(UnitFactory)
    role = "preparer"
