"""The vocabulary of purposes an access may be made for.

Each app declares its purposes in a ``purposes.py`` module that calls
``purpose_register``; ``LedgerConfig.ready()`` imports those modules.
"""

from dataclasses import dataclass

from ledger.errors import UnknownPurpose


@dataclass(frozen=True)
class Purpose:
    code: str
    description: str


_registry: dict[str, Purpose] = {}


def purpose_register(code: str, description: str) -> Purpose:
    """Add a purpose to the vocabulary; registering the same code twice is harmless."""
    if not code or not code.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise ValueError(f"purpose code {code!r} must be letters, digits, '-', '_' or '.'")
    purpose = _registry.setdefault(code, Purpose(code=code, description=description))
    return purpose


def purpose_check(code: str) -> Purpose:
    """Return the registered purpose CODE, or raise UnknownPurpose."""
    try:
        return _registry[code]
    except KeyError:
        raise UnknownPurpose(f"unknown purpose {code!r}; registered purposes: {', '.join(sorted(_registry))}") from None


def purposes_all() -> list[Purpose]:
    """Return every registered purpose, sorted by code."""
    return sorted(_registry.values(), key=lambda purpose: purpose.code)


purpose_register("staff-duty", "A member of staff at work who has not stated a narrower purpose")
purpose_register("ledger-audit", "Auditing the access ledger")
