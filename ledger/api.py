"""The ledger's public surface. Other apps import from here and nowhere else in ledger."""

from ledger.actions import cosignature_add, witness_register
from ledger.context import AccessContext, Actor, access_context, context_get, context_get_or_none, purpose_override
from ledger.errors import AppendOnlyViolation, LedgerError, NoAccessContext, UnknownAction, UnknownPurpose
from ledger.recording import record, record_bulk, recorded, subject_pseudonym, subject_pseudonyms
from ledger.selectors import (
    ProofUnavailable,
    checkpoint_note_get,
    consistency_proof,
    entry_get,
    entry_list_for_subject,
    inclusion_proof,
    ledger_health,
    proof_bundle,
    sequencer_lag,
    verification_age,
    verifier_key_get,
)
from ledger.statistics import access_counts, log_health
from ledger.verification import VerificationResult
from ledger.verification import log_verify as verify
from ledger.vocabulary import (
    Action,
    DeclaredTwice,
    Purpose,
    action_check,
    action_get,
    actions_all,
    actions_register,
    purpose_check,
    purpose_register,
    purposes_all,
)
from ledger.witnessing import checkpoint_published, checkpoints_push, log_seal, publication_lag

__all__ = [
    "Action",
    "DeclaredTwice",
    "UnknownAction",
    "action_check",
    "action_get",
    "actions_all",
    "actions_register",
    "AccessContext",
    "Actor",
    "AppendOnlyViolation",
    "LedgerError",
    "NoAccessContext",
    "ProofUnavailable",
    "Purpose",
    "VerificationResult",
    "UnknownPurpose",
    "access_context",
    "access_counts",
    "checkpoint_note_get",
    "consistency_proof",
    "entry_get",
    "entry_list_for_subject",
    "inclusion_proof",
    "log_health",
    "ledger_health",
    "sequencer_lag",
    "verification_age",
    "proof_bundle",
    "verifier_key_get",
    "verify",
    "cosignature_add",
    "witness_register",
    "checkpoint_published",
    "checkpoints_push",
    "log_seal",
    "publication_lag",
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
