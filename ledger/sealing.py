"""Sealed accesses: in the log and counted in the resident's chain, their contents withheld until a set date.

Some lawful accesses (a police or tax investigation) must not be shown to the
resident at once. A member of staff working in the ``sealing-authority`` role
for the ``sealed-investigation`` purpose records one with ``access_seal``,
naming the legal reference that allows it and the date it is disclosed on.

- The log gets a *sealed entry* about the resident. Its canonical bytes hold
  the subject tag, the chain fields and ``"sealed": {"commitment": base64,
  "unseal_on": "YYYY-MM-DD"}``, nothing else: no action, actor, purpose,
  object or time. It is chained and counted like any entry, so the resident's
  completeness proof still verifies, and says how many accesses are sealed
  until when.
- ``commitment = SHA-256("onecard-sealed/v1" || 0x00 || salt || contents)``,
  CONTENTS the canonical JSON (sorted keys, no spaces, UTF-8) of what the
  entry would otherwise have said (action, actor, case_id, channel, object,
  outcome, purpose, request_id, time), SALT 32 random bytes: it binds the
  contents and, the salt being secret, hides them.
- Contents, salt and the resident's reference are kept encrypted (AES-256-GCM
  under the resident data key) in ``ledger_sealedaccess`` with the legal
  reference, which auditors list (the admin); no resident-facing code reads it.
- The sealing itself is recorded as ``ledger.sealed.seal`` about a subject of
  its own, the sealed entry's commitment (``sealed:<hex>``), by the sealing
  authority as a body: the act sits next to the sealed entry in the public
  log, so it names no officer (the officer is inside the commitment, and in
  the auditors' list). The resident's history does not show it.
- On the unseal date the beat task ``ledger.sealing.sealed_release`` publishes
  the opening (``ledger_sealedopening``: contents and salt), records
  ``ledger.sealed.release`` and sends ``sealed_released``, on which the cards
  app e-mails the resident. From then on the history page and the completeness
  bundle show the contents, checked against the commitment.
"""

import base64
import datetime
import json
import os

import django.dispatch
from celery import shared_task
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, transaction
from django.utils import timezone

from ledger.context import Actor, access_context, context_get
from ledger.models import PendingEntry, SealedAccess, SealedOpening
from ledger.pseudonyms import subject_pseudonym
from ledger.recording import _access_values, _record, _sequence_after_commit, record
from ledger.tools.vindex import sealed_commitment

SEALING_ROLE = "sealing-authority"
SEALING_PURPOSE = "sealed-investigation"
SEALED_ACTION = "ledger.sealed.record"
_LABEL = b"onecard:ledger.sealed_access"
_VERSION = b"\x01"

# Sent after a release commits: subject_reference (e.g. "resident:12"), unseal_on (a date).
sealed_released = django.dispatch.Signal()


class SealRefused(ValueError):
    """The sealing is not allowed as asked: wrong role or purpose, no legal reference, a date not in the future."""


def _canonical(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _encrypt(data: bytes) -> bytes:
    nonce = os.urandom(12)
    return _VERSION + nonce + AESGCM(settings.ONECARD_NATIONAL_ID_KEY[:32]).encrypt(nonce, data, _LABEL)


def _decrypt(blob: bytes) -> bytes:
    blob = bytes(blob)
    if blob[:1] != _VERSION:
        raise ValueError("unknown sealed-access ciphertext version")
    try:
        return AESGCM(settings.ONECARD_NATIONAL_ID_KEY[:32]).decrypt(blob[1:13], blob[13:], _LABEL)
    except InvalidTag:
        raise ValueError("the sealed access does not decrypt under the configured key") from None


def access_seal(
    *,
    action: str,
    subject,
    unseal_on: datetime.date,
    legal_reference: str,
    object: str = "",
    outcome: str = "ok",
) -> SealedAccess:
    """Record a sealed access to SUBJECT's data under the current access context; return its sealed record.

    The context must be the sealing authority's role and purpose; LEGAL_REFERENCE is required and UNSEAL_ON
    must be after today. Raise SealRefused otherwise.
    """
    context = context_get()
    if context.role != SEALING_ROLE or context.purpose != SEALING_PURPOSE:
        raise SealRefused(f"only the {SEALING_ROLE} role, for the {SEALING_PURPOSE} purpose, may seal an access")
    legal_reference = (legal_reference or "").strip()
    if not legal_reference or len(legal_reference) > 200:
        raise SealRefused("a legal reference (1 to 200 characters) is required to seal an access")
    if not isinstance(unseal_on, datetime.date) or unseal_on <= timezone.localdate():
        raise SealRefused("the unseal date must be after today")
    values = _access_values(context, action=action, purpose=None, object=object, outcome=outcome)
    contents = _canonical(
        {
            "action": values["action"],
            "actor": {"id": values["actor_id"], "role": values["role"], "type": values["actor_type"]},
            "case_id": values["case_id"] or None,
            "channel": values["channel"],
            "object": values["object"],
            "outcome": values["outcome"],
            "purpose": values["purpose"],
            "request_id": values["request_id"],
            "time": values["time"].astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }
    )
    salt = os.urandom(32)
    commitment = sealed_commitment(salt, contents)
    reference = getattr(subject, "ledger_subject", subject)
    tag = subject_pseudonym(subject)
    secret = _canonical(
        {"contents": contents.decode(), "salt": base64.b64encode(salt).decode(), "subject_reference": reference}
    )
    with transaction.atomic():
        # The pending row says nothing but the tag and the commitment; the sequencer writes the sealed entry.
        PendingEntry.objects.create(
            time=values["time"],
            actor_type="sealed",
            actor_id="",
            role="",
            channel="sealed",
            action=SEALED_ACTION,
            purpose="",
            subject=tag,
            object="",
            outcome="",
            request_id="",
            case_id="",
            seal_commitment=commitment,
            unseal_on=unseal_on,
        )
        sealed = SealedAccess.objects.create(
            commitment=commitment,
            subject=tag,
            unseal_on=unseal_on,
            legal_reference=legal_reference,
            sealed_by=f"{context.actor.type}:{context.actor.id}",
            sealed_at=values["time"],
            sealed=_encrypt(secret),
        )
        # Recorded by the sealing authority as a body, not the officer: the act lands next to the sealed entry
        # in the public log, and the officer is named inside the commitment (and to auditors) already.
        with access_context(
            actor=Actor(type="system", id="ledger.sealing"),
            role=SEALING_ROLE,
            channel=context.channel,
            purpose=SEALING_PURPOSE,
        ):
            record(action="ledger.sealed.seal", subject=f"sealed:{commitment.hex()}", object=f"until {unseal_on}")
        _sequence_after_commit()
    return sealed


@shared_task(ignore_result=True, name="ledger.sealing.sealed_release")
def sealed_release_task() -> None:
    """Disclose every sealed access whose unseal date has come (hourly, on beat)."""
    sealed_release()


def sealed_release(*, today: datetime.date | None = None) -> int:
    """Publish the opening of every sealed access whose date has come; record each; return how many.

    Runs through the sequencer's database role (``DATABASE_SEQUENCER_URL``): in production only it may write
    an opening or mark a sealed access released, so the web role cannot publish one before its date
    (docs/operations.md; the web processes hold the key, so they could read one). The task is routed to
    the sequencer's queue.
    """
    using = getattr(settings, "ONECARD_LEDGER_SEQUENCER_DATABASE", DEFAULT_DB_ALIAS)
    today = today or timezone.localdate()
    released = 0
    sealed_accesses = SealedAccess.objects.using(using)
    due = sealed_accesses.filter(unseal_on__lte=today, released_at__isnull=True).order_by("unseal_on", "pk")
    with access_context(
        actor=Actor(type="system", id="sealed-release"), role=SEALING_ROLE, channel="task", purpose=SEALING_PURPOSE
    ):
        for pk in due.values_list("pk", flat=True):
            with transaction.atomic(using=using):
                sealed = sealed_accesses.select_for_update().filter(pk=pk, released_at__isnull=True).first()
                if sealed is None:
                    continue
                secret = json.loads(_decrypt(sealed.sealed))
                salt, contents = base64.b64decode(secret["salt"]), secret["contents"].encode()
                if sealed_commitment(salt, contents) != bytes(sealed.commitment):
                    raise ValueError(f"sealed access {pk}: its contents do not match its commitment")
                now = timezone.now()
                SealedOpening.objects.using(using).create(
                    commitment=sealed.commitment, contents=contents.decode(), salt=salt
                )
                sealed_accesses.filter(pk=pk).update(released_at=now)
                _record(
                    action="ledger.sealed.release",
                    subject=f"sealed:{bytes(sealed.commitment).hex()}",
                    object=f"due {sealed.unseal_on}",
                    using=using,
                )
                reference, unseal_on = secret["subject_reference"], sealed.unseal_on
                transaction.on_commit(
                    lambda reference=reference, unseal_on=unseal_on: sealed_released.send(
                        sender=SealedAccess, subject_reference=reference, unseal_on=unseal_on
                    ),
                    robust=True,
                    using=using,
                )
                released += 1
    return released


def opening_for(commitments: list[bytes]) -> dict[bytes, dict]:
    """Return {commitment: {"contents": text, "salt": base64}} of those of COMMITMENTS already released."""
    rows = SealedOpening.objects.filter(commitment__in=commitments).values_list("commitment", "contents", "salt")
    return {
        bytes(commitment): {"contents": contents, "salt": base64.b64encode(bytes(salt)).decode()}
        for commitment, contents, salt in rows
    }


def sealed_list_for_auditors():
    """Return every sealed access (legal reference, dates, who sealed it), newest first, for the auditors' list."""
    return SealedAccess.objects.order_by("-sealed_at").defer("sealed")


def sealed_contents(entries: list[dict]) -> dict[int, dict | None]:
    """Return {index: released contents, or None while withheld} for the sealed ones of ENTRIES ({"index", "entry"}).

    Released contents are returned only once their opening hashes to the entry's commitment.
    """
    sealed = {
        item["index"]: base64.b64decode(item["entry"]["sealed"].get("commitment", ""))
        for item in entries
        if isinstance(item["entry"].get("sealed"), dict)
    }
    openings = opening_for(list(sealed.values())) if sealed else {}
    result = {}
    for index, commitment in sealed.items():
        opening = openings.get(commitment)
        contents = None
        if opening is not None:
            text = opening["contents"].encode()
            if sealed_commitment(base64.b64decode(opening["salt"]), text) == commitment:
                contents = json.loads(text)
        result[index] = contents
    return result
