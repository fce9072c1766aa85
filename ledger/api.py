"""The ledger's public surface. Other apps import from here and nowhere else in ledger."""

from ledger.completeness import completeness_bundle
from ledger.context import (
    AccessContext,
    Actor,
    access_context,
    accesses_collected,
    context_get,
    context_get_or_none,
    purpose_override,
)
from ledger.errors import NoAccessContext, UnknownPurpose
from ledger.pseudonyms import actor_pseudonym, subject_pseudonym, subject_pseudonyms
from ledger.publication import checkpoint_published, publication_lag
from ledger.recording import record, record_bulk, recorded
from ledger.sealing import (
    SEALING_PURPOSE,
    SEALING_ROLE,
    SealRefused,
    access_seal,
    sealed_contents,
    sealed_list_for_auditors,
    sealed_released,
)
from ledger.selectors import (
    ProofUnavailable,
    entry_get,
    entry_list_for_subject,
    inclusion_proof,
    ledger_health,
    log_mirrors,
    pending_list_for_subject,
    proof_bundle,
    verifier_key_get,
)
from ledger.statistics import access_counts, agency_accesses_by_subject, log_health
from ledger.verification import log_verify as verify
from ledger.views import PROBLEM_TYPES
from ledger.vocabulary import Purpose, action_get, actions_register, purpose_check, purpose_register, purposes_all
from ledger.witnessing import checkpoints_push, log_seal

__all__ = [
    "SEALING_PURPOSE",
    "SEALING_ROLE",
    "SealRefused",
    "access_seal",
    "sealed_contents",
    "sealed_list_for_auditors",
    "sealed_released",
    "AccessContext",
    "PROBLEM_TYPES",
    "accesses_collected",
    "purpose_override",
    "Actor",
    "NoAccessContext",
    "ProofUnavailable",
    "Purpose",
    "UnknownPurpose",
    "access_context",
    "access_counts",
    "agency_accesses_by_subject",
    "action_get",
    "completeness_bundle",
    "actions_register",
    "actor_pseudonym",
    "context_get",
    "context_get_or_none",
    "entry_get",
    "entry_list_for_subject",
    "inclusion_proof",
    "ledger_health",
    "log_health",
    "log_mirrors",
    "pending_list_for_subject",
    "proof_bundle",
    "purpose_check",
    "purpose_register",
    "purposes_all",
    "record",
    "record_bulk",
    "recorded",
    "subject_pseudonym",
    "subject_pseudonyms",
    "verifier_key_get",
    "verify",
    "checkpoint_published",
    "checkpoints_push",
    "log_seal",
    "publication_lag",
]
