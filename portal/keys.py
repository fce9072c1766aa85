"""Load key material from the environment, or generate it in the embedded default.

Each key NAME is read from the environment variable NAME (standard base64) or
from the file named by NAME_FILE. In the embedded default a missing key is
generated once under ``var/keys/NAME`` (git-ignored) and reused afterwards. In
production a missing key stops the process: there is no default.
"""

import base64
import binascii
import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured


class KeyRing:
    """Resolve named secrets for the settings module."""

    def __init__(self, *, directory: Path, generate: bool, environ) -> None:
        self.directory = Path(directory)
        self.generate = generate
        self.environ = environ
        self.names: list[str] = []

    def secret(self, name: str, *, length: int = 32) -> bytes:
        """Return the raw bytes of key NAME, generating it in the embedded default."""
        self.names.append(name)
        raw = self._read(name)
        if raw is None:
            if not self.generate:
                raise ImproperlyConfigured(
                    f"Production mode needs the key {name}: set {name} (base64) or {name}_FILE. "
                    "Generate a full set with 'python manage.py keys_generate'."
                )
            raw = self._generate(name, length)
        key = _decode(name, raw)
        if len(key) < length:
            raise ImproperlyConfigured(f"Key {name} must be at least {length} bytes, it has {len(key)}.")
        return key

    def _read(self, name: str) -> str | None:
        value = self.environ.str(name, default="")
        if value:
            return value
        path = self.environ.str(f"{name}_FILE", default="")
        if path:
            try:
                return Path(path).read_text().strip()
            except OSError as error:
                raise ImproperlyConfigured(f"Cannot read {name}_FILE={path}: {error.strerror}.") from error
        stored = self.directory / name
        if self.generate and stored.exists():
            return stored.read_text().strip()
        return None

    def _generate(self, name: str, length: int) -> str:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        value = base64.b64encode(secrets.token_bytes(length)).decode()
        path = self.directory / name
        # O_EXCL: two processes starting at once keep the first key written.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as handle:
            handle.write(value + "\n")
        return value


def _decode(name: str, value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ImproperlyConfigured(f"Key {name} is not valid base64.") from error


def generate_all(names: list[str], *, length: int = 32) -> dict[str, str]:
    """Return fresh base64 values for each key name."""
    return {name: base64.b64encode(secrets.token_bytes(length)).decode() for name in names}
