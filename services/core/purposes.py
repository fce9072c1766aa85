"""Register the purposes of services.core; the catalogue registers every service's purposes as it loads."""

from ledger.api import purpose_register
from services.core import catalogue  # noqa: F401  (registering the catalogue registers its purposes)

purpose_register("consent-management", "A resident or caseworker granting or revoking a consent")
purpose_register("partner-administration", "A caseworker managing a partner agency and its credentials")
