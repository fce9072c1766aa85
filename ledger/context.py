"""The actor context: who is accessing resident data, through which channel, and why.

It is set once at the edge (web middleware, API authentication, a task or a
command) and read by ``record()``. It lives in a contextvar, so threads and
asyncio tasks each see their own.
"""

import contextlib
import contextvars
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace

from ledger.errors import NoAccessContext
from ledger.vocabulary import purpose_check

ACTOR_TYPES = ("resident", "staff", "agency", "system")
CHANNELS = ("web", "admin", "api", "task", "command", "shell")


@dataclass(frozen=True)
class Actor:
    """Who acts: a resident or staff pseudonym, an agency code, or a system component."""

    type: str
    id: str

    def __post_init__(self) -> None:
        if self.type not in ACTOR_TYPES:
            raise ValueError(f"actor type must be one of {', '.join(ACTOR_TYPES)}, not {self.type!r}")
        if not self.id:
            raise ValueError("actor id is required")


@dataclass(frozen=True)
class AccessContext:
    actor: Actor
    role: str
    channel: str
    purpose: str | None
    request_id: str
    case_id: str | None = None


_current: contextvars.ContextVar[AccessContext | None] = contextvars.ContextVar("onecard_access_context", default=None)
_collected: contextvars.ContextVar[list[dict] | None] = contextvars.ContextVar("onecard_accesses", default=None)


@contextlib.contextmanager
def access_context(
    *,
    actor: Actor,
    role: str,
    channel: str,
    purpose: str | None = None,
    request_id: str | None = None,
    case_id: str | None = None,
) -> Iterator[AccessContext]:
    """Open an access context for the code inside the block."""
    if channel not in CHANNELS:
        raise ValueError(f"channel must be one of {', '.join(CHANNELS)}, not {channel!r}")
    if purpose is not None:
        purpose_check(purpose)
    context = AccessContext(
        actor=actor,
        role=role,
        channel=channel,
        purpose=purpose,
        request_id=request_id or uuid.uuid4().hex,
        case_id=case_id or None,
    )
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


@contextlib.contextmanager
def purpose_override(purpose: str) -> Iterator[AccessContext]:
    """Narrow the current context to another purpose for the code inside the block."""
    purpose_check(purpose)
    token = _current.set(replace(context_get(), purpose=purpose))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def context_get() -> AccessContext:
    """Return the current access context, or raise NoAccessContext."""
    context = _current.get()
    if context is None:
        raise NoAccessContext(
            "resident data was accessed outside ledger.api.access_context(); "
            "set the context at the edge (middleware, API authentication, task or command)"
        )
    return context


def context_get_or_none() -> AccessContext | None:
    """Return the current access context, or None outside one."""
    return _current.get()


@contextlib.contextmanager
def accesses_collected() -> Iterator[list[dict]]:
    """Collect every access recorded inside the block, as keyword arguments that record() takes again.

    The API gateway keeps them with an idempotent response, so a replay records
    the same accesses as the first call.
    """
    collected: list[dict] = []
    token = _collected.set(collected)
    try:
        yield collected
    finally:
        _collected.reset(token)


def collected_add(**access) -> None:
    """Add one recorded access to the collection of the enclosing accesses_collected(), if any."""
    collected = _collected.get()
    if collected is not None:
        collected.append(access)
