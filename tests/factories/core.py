import factory

from services.core.actions import agency_grants_set, agency_key_issue
from services.core.models import Agency


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"agency-{n}")
    name_en = factory.Sequence(lambda n: f"Agency {n}")
    name_zh_hans = factory.Sequence(lambda n: f"机构{n}")
    kind = Agency.Kind.BANK

    @factory.post_generation
    def grants(obj, create, extracted, **kwargs):
        scopes, purposes = extracted or ((), ())
        agency_grants_set(agency=obj, scopes=tuple(scopes), purposes=tuple(purposes))


def agency_with_key(*, scopes=(), purposes=(), **fields) -> tuple[Agency, str]:
    """Return a new agency holding SCOPES and PURPOSES, and the secret of a fresh key."""
    agency = AgencyFactory(grants=(scopes, purposes), **fields)
    _key, secret = agency_key_issue(agency=agency, name="test")
    return agency, secret
