"""The ledger's public surface. Other apps import from here and nowhere else in ledger."""

from ledger.context import AccessContext, Actor, access_context, context_get, context_get_or_none, purpose_override
from ledger.errors import AppendOnlyViolation, LedgerError, NoAccessContext, UnknownPurpose
from ledger.purposes import Purpose, purpose_check, purpose_register, purposes_all
from ledger.recording import record, record_bulk, recorded, subject_pseudonym, subject_pseudonyms
from ledger.statistics import access_counts

__all__ = [
    "AccessContext",
    "Actor",
    "AppendOnlyViolation",
    "LedgerError",
    "NoAccessContext",
    "Purpose",
    "UnknownPurpose",
    "access_context",
    "access_counts",
    "context_get",
    "context_get_or_none",
    "purpose_check",
    "purpose_override",
    "purpose_register",
    "purposes_all",
    "record",
    "record_bulk",
    "recorded",
    "subject_pseudonym",
    "subject_pseudonyms",
]
