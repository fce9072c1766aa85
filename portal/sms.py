"""Send text messages through a pluggable backend, as django.core.mail sends e-mail.

``ONECARD_SMS_BACKEND`` names the backend class by dotted path. The default,
``ConsoleSmsBackend``, prints each message to standard output with the number
masked; ``LocmemSmsBackend`` keeps them in ``portal.sms.outbox`` for tests. A
backend for a real gateway subclasses ``BaseSmsBackend`` and raises
``SmsNotSent`` when the gateway refuses or cannot be reached, so the task that
sends it retries.
"""

import sys
import threading
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string


class SmsNotSent(Exception):
    """The text message could not be handed to the gateway."""


@dataclass(frozen=True)
class SmsMessage:
    to: str
    text: str


class BaseSmsBackend:
    """Send one text message; raise SmsNotSent when it cannot."""

    def send(self, message: SmsMessage) -> None:
        raise NotImplementedError


def phone_masked(number: str) -> str:
    """Return NUMBER with all but its last four digits hidden."""
    return "*" * max(len(number) - 4, 0) + number[-4:]


class ConsoleSmsBackend(BaseSmsBackend):
    """Print each message to standard output, the number masked: the embedded default."""

    _lock = threading.Lock()

    def send(self, message: SmsMessage) -> None:
        with self._lock:
            sys.stdout.write(f"SMS to {phone_masked(message.to)}: {message.text}\n")
            sys.stdout.flush()


outbox: list[SmsMessage] = []


class LocmemSmsBackend(BaseSmsBackend):
    """Keep each message in portal.sms.outbox, for tests."""

    def send(self, message: SmsMessage) -> None:
        outbox.append(message)


def sms_enabled() -> bool:
    """Return whether this installation sends text messages (ONECARD_SMS_BACKEND is set)."""
    return bool(settings.ONECARD_SMS_BACKEND)


def sms_send(*, to: str, text: str) -> None:
    """Send TEXT to the phone number TO through the configured backend."""
    if not sms_enabled():
        raise SmsNotSent("this installation sends no text messages (ONECARD_SMS_BACKEND is empty)")
    backend = import_string(settings.ONECARD_SMS_BACKEND)()
    backend.send(SmsMessage(to=to, text=text))
