"""Keyed-HMAC pseudonyms: how entries name residents and staff without holding who they are."""

import hashlib
import hmac

from django.conf import settings


def subject_pseudonym(subject, *, version: int | None = None) -> str:
    """Return the keyed-HMAC pseudonym of SUBJECT under the current (or given) key version."""
    reference = getattr(subject, "ledger_subject", subject)
    if not isinstance(reference, str) or not reference:
        raise TypeError("subject must be a resident or a non-empty reference string")
    keys = settings.ONECARD_LEDGER_SUBJECT_KEYS
    version = version or max(keys)
    digest = hmac.new(keys[version], reference.encode(), hashlib.sha256).hexdigest()
    return f"p{version}-{digest[:40]}"


def actor_pseudonym(*, kind: str, reference: str) -> str:
    """Return the keyed-HMAC pseudonym of a staff member or user, so entries never hold a username."""
    keys = settings.ONECARD_LEDGER_SUBJECT_KEYS
    version = max(keys)
    digest = hmac.new(keys[version], f"{kind}:{reference}".encode(), hashlib.sha256).hexdigest()
    return f"{kind[0]}{version}-{digest[:40]}"


def subject_pseudonyms(subject) -> list[str]:
    """Return SUBJECT's pseudonym under every key version, newest first, to find older entries."""
    return [
        subject_pseudonym(subject, version=version)
        for version in sorted(settings.ONECARD_LEDGER_SUBJECT_KEYS, reverse=True)
    ]
