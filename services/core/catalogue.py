"""The service catalogue: every service, its scopes, portal section and API urls.

The portal and the gateway read this catalogue instead of naming services
themselves. Each service app declares its entry once, with
``service_register`` in its ``declaration.py``, which its ``AppConfig.ready()``
imports; the purposes its scopes allow are declared with the ledger
(``ledger.api.purpose_register``), by whichever app owns them.
"""

from dataclasses import dataclass

from django.utils.translation import gettext

from ledger.api import Purpose, purpose_check


@dataclass(frozen=True)
class Scope:
    """A permission an agency can be granted, e.g. ``residents:verify``, and the purposes it may be used for."""

    code: str
    description: str  # English, marked with gettext_noop where declared; shown through gettext()
    purposes: tuple[str, ...]
    consent_required: bool = False


@dataclass(frozen=True)
class Service:
    """One service of the portal and the partner API."""

    code: str
    name_en: str
    name_zh_hans: str
    scopes: tuple[Scope, ...] = ()
    portal_section: str = ""
    api_urls: str = ""  # dotted path of a urlconf the gateway mounts under /api/v1/


_services: dict[str, Service] = {}
_scopes: dict[str, Scope] = {}
# Built on first use after the last registration: the gateway asks on every request.
_partner_purposes: dict[str, Purpose] | None = None


def service_register(service: Service) -> Service:
    """Add SERVICE to the catalogue; a service or scope code declared twice raises ValueError."""
    if service.code in _services:
        raise ValueError(f"service {service.code!r} is declared twice; declare it once, in its app")
    for scope in service.scopes:
        if scope.code in _scopes:
            raise ValueError(f"scope {scope.code!r} is declared twice; declare it once, in its service")
    global _partner_purposes
    _services[service.code] = service
    _scopes.update((scope.code, scope) for scope in service.scopes)
    _partner_purposes = None
    return service


def services_all() -> list[Service]:
    """Return every registered service in registration order."""
    return list(_services.values())


def service_get(code: str) -> Service:
    """Return the service CODE, or raise KeyError."""
    return _services[code]


def scopes_all() -> dict[str, Scope]:
    """Return every scope of every service, by code."""
    return dict(_scopes)


def purposes_all() -> dict[str, Purpose]:
    """Return every purpose some scope may be used for (the partners' purposes), by code."""
    global _partner_purposes
    if _partner_purposes is None:
        codes = sorted({code for scope in _scopes.values() for code in scope.purposes})
        _partner_purposes = {code: purpose_check(code) for code in codes}
    return dict(_partner_purposes)


def purpose_scopes(purpose: str) -> tuple[str, ...]:
    """Return the codes of the scopes PURPOSE may be used with, sorted."""
    return tuple(sorted(code for code, scope in _scopes.items() if purpose in scope.purposes))


def scope_choices() -> list[tuple[str, str]]:
    """Return (code, description) pairs for form fields."""
    return [(code, f"{code}: {gettext(scope.description)}") for code, scope in sorted(_scopes.items())]


def purpose_choices() -> list[tuple[str, str]]:
    """Return (code, name) pairs for form fields."""
    return [(code, f"{code}: {purpose.name}") for code, purpose in purposes_all().items()]


def purpose_allows_scope(purpose: str, scope: str) -> bool:
    """Return whether PURPOSE may be used with SCOPE."""
    declared = _scopes.get(scope)
    return declared is not None and purpose in declared.purposes
