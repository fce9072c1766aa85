"""The vocabulary of the ledger: the purposes an access may be made for and the actions it may record.

Each app declares its own in one module (``<app>/declaration.py``) that its
``AppConfig.ready()`` imports, as Wagtail's apps register their log actions.
A code is declared once: a second declaration raises, so no app can silently
replace another's purpose or legal basis. ``record()`` refuses an action
that is not declared.
"""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import get_language, gettext

from ledger.errors import UnknownAction, UnknownPurpose


class DeclaredTwice(ValueError):
    """A purpose or action code was declared by two apps, or twice by one."""


def _code_check(kind: str, code: str) -> None:
    if not code or not code.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise ValueError(f"{kind} code {code!r} must be letters, digits, '-', '_' or '.'")


@dataclass(frozen=True)
class Purpose:
    """Why an access is made, and the law that allows it."""

    code: str
    name_en: str
    name_zh_hans: str
    legal_basis: str

    @property
    def name(self) -> str:
        """Return the name in the active language."""
        return self.name_zh_hans if (get_language() or "").lower().startswith("zh") else self.name_en

    @property
    def description(self) -> str:
        """Return the name and the legal basis in the active language, for staff pages."""
        return gettext("%(name)s. Legal basis: %(basis)s") % {"name": self.name, "basis": gettext(self.legal_basis)}


@dataclass(frozen=True)
class Action:
    """One kind of access the ledger records, e.g. ``health.visits.read``.

    DESCRIPTION says in plain words, for the resident, what happened (a lazy
    translation: zh-Hans and English). READS says whether the access shows
    resident data to the actor. SERVICE is the catalogue service (or ``portal``)
    a resident's history files it under.
    """

    code: str
    description: str | Promise
    reads: bool
    service: str


_purposes: dict[str, Purpose] = {}
_actions: dict[str, Action] = {}


def purpose_register(code: str, *, name_en: str, name_zh_hans: str, legal_basis: str) -> Purpose:
    """Declare purpose CODE; a code declared twice raises DeclaredTwice."""
    _code_check("purpose", code)
    if not (name_en and name_zh_hans and legal_basis):
        raise ValueError(f"purpose {code!r} needs an English and a Chinese name and a legal basis")
    if code in _purposes:
        raise DeclaredTwice(f"purpose {code!r} is declared twice; declare it once, in the app that owns it")
    purpose = _purposes[code] = Purpose(code=code, name_en=name_en, name_zh_hans=name_zh_hans, legal_basis=legal_basis)
    return purpose


def purpose_check(code: str) -> Purpose:
    """Return the declared purpose CODE, or raise UnknownPurpose."""
    try:
        return _purposes[code]
    except KeyError:
        raise UnknownPurpose(f"unknown purpose {code!r}; declared purposes: {', '.join(sorted(_purposes))}") from None


def purposes_all() -> list[Purpose]:
    """Return every declared purpose, sorted by code."""
    return sorted(_purposes.values(), key=lambda purpose: purpose.code)


def actions_register(service: str, *actions: tuple[str, str | Promise, bool]) -> list[Action]:
    """Declare ACTIONS of SERVICE, each a ``(code, description, reads)`` triple.

    ``actions_register("health", ("health.visits.read", _("Your visits were read"), True))``
    """
    declared = []
    for code, description, reads in actions:
        _code_check("action", code)
        if code.count(".") < 1:
            raise ValueError(f"action {code!r} must be a dotted name such as 'health.visits.read'")
        if code in _actions:
            raise DeclaredTwice(f"action {code!r} is declared twice; declare it once, in the app that owns it")
        declared.append(
            _actions.setdefault(code, Action(code=code, description=description, reads=reads, service=service))
        )
    return declared


def action_check(code: str) -> Action:
    """Return the declared action CODE, or raise UnknownAction."""
    try:
        return _actions[code]
    except KeyError:
        raise UnknownAction(
            f"unknown ledger action {code!r}: declare it in its app's declaration.py with "
            "ledger.api.actions_register (docs/architecture.md)"
        ) from None


def action_get(code: str) -> Action | None:
    """Return the declared action CODE, or None (entries may name actions retired since)."""
    return _actions.get(code)


def actions_all() -> list[Action]:
    """Return every declared action, sorted by code."""
    return sorted(_actions.values(), key=lambda action: action.code)
