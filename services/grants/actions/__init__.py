"""Write grant programmes, applications, sign-offs and disbursements, one module per sub-domain.

Sign-off rules (four eyes), enforced here by user identity and permission,
whatever the page or endpoint that calls:
- a reviewer holds ``grants.review_application``; an approver holds
  ``grants.approve_application``;
- nobody reviews, approves or rejects their own application;
- an approver is never the reviewer of the same round, and two approvers of
  one round are different people (also a unique constraint);
- after an appeal the reviewer is someone who has not reviewed it before.
"""

from services.grants.actions.applications import (
    application_appeal,
    application_apply,
    application_draft_create,
    application_submit,
)
from services.grants.actions.assessment import (
    application_assess,
)
from services.grants.actions.base import (
    APPROVE_PERMISSION,
    CYCLE_APPROVE_PERMISSION,
    DISBURSE_PERMISSION,
    MAX_APPEALS,
    REVIEW_PERMISSION,
    TRANSITIONS,
)
from services.grants.actions.decisions import (
    application_approve,
    application_recommend,
    application_reject,
    application_review_start,
    approvals_of,
)
from services.grants.actions.disbursements import (
    BatchResult,
    cycle_batch_run,
    disbursement_confirm,
)
from services.grants.actions.notifications import (
    application_notify,
)
from services.grants.actions.programmes import (
    cycle_approve,
    cycle_batch_queue,
    cycle_create,
    programme_save,
)

__all__ = [
    "APPROVE_PERMISSION",
    "BatchResult",
    "CYCLE_APPROVE_PERMISSION",
    "DISBURSE_PERMISSION",
    "MAX_APPEALS",
    "REVIEW_PERMISSION",
    "TRANSITIONS",
    "application_appeal",
    "application_apply",
    "application_approve",
    "application_assess",
    "application_draft_create",
    "application_notify",
    "application_recommend",
    "application_reject",
    "application_review_start",
    "application_submit",
    "approvals_of",
    "cycle_approve",
    "cycle_batch_queue",
    "cycle_batch_run",
    "cycle_create",
    "disbursement_confirm",
    "programme_save",
]
