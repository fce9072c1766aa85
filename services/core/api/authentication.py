"""Map ``Authorization: Bearer <key>`` to the calling agency."""

from rest_framework.authentication import BaseAuthentication, get_authorization_header

from services.core.api import problems
from services.core.models import Agency, AgencyKey
from services.core.selectors import agency_key_authenticate


class AgencyPrincipal:
    """The authenticated caller of an API request: an agency, never a person."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, agency: Agency) -> None:
        self.agency = agency

    def __str__(self) -> str:
        return self.agency.code


class AgencyKeyAuthentication(BaseAuthentication):
    """Authenticate an agency by its API key, sent as a Bearer token."""

    def authenticate(self, request) -> tuple[AgencyPrincipal, AgencyKey] | None:
        header = get_authorization_header(request).split()
        if not header:
            return None
        if header[0].lower() != b"bearer" or len(header) != 2:
            raise problems.CredentialsInvalid("send the key as 'Authorization: Bearer <key>'")
        try:
            secret = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise problems.CredentialsInvalid("the API key contains characters that no key has") from None
        key = agency_key_authenticate(secret=secret)
        return AgencyPrincipal(key.agency), key

    def authenticate_header(self, request) -> str:
        return problems.AUTHENTICATE_HEADER
