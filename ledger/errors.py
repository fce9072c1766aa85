"""Errors the ledger raises. Recording never fails silently."""


class LedgerError(Exception):
    """Base class for ledger errors."""


class NoAccessContext(LedgerError):
    """record() was called outside ledger.api.access_context()."""


class UnknownPurpose(LedgerError):
    """The purpose is not in the registered vocabulary."""


class UnknownAction(LedgerError):
    """The action is not declared (ledger.api.actions_register)."""


class AppendOnlyViolation(LedgerError):
    """Code tried to change or remove a ledger row."""
