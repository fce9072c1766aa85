"""Load key material from the environment, or generate it in the embedded default.

Each key NAME is read from the environment variable NAME (standard base64) or
from the file named by NAME_FILE. In the embedded default a missing key is
generated once under ``var/keys/NAME`` (git-ignored) and reused afterwards. In
production a missing key stops the process: there is no default.
"""

import base64
import binascii
import json
import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from cards import mdoc_pki

MDOC_KEY_NAMES = mdoc_pki.ENVIRONMENT_NAMES


class KeyRing:
    """Resolve named secrets for the settings module."""

    def __init__(self, *, directory: Path, generate: bool, environ) -> None:
        self.directory = Path(directory)
        self.generate = generate
        self.environ = environ
        self.names: list[str] = []
        self.mdoc_names: list[str] = []

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

    def mdoc_document_signer(self, *, issuer_url: str) -> mdoc_pki.DocumentSigner:
        """Return the mdoc document signer and IACA certificate, generating a chain in the embedded default."""
        self.mdoc_names = list(MDOC_KEY_NAMES)
        values = {name: self._read(name, stored=False) for name in MDOC_KEY_NAMES}
        if not any(values.values()) and self.generate:
            values = self._mdoc_generated(issuer_url)
        missing = [name for name, value in values.items() if not value]
        if missing:
            raise ImproperlyConfigured(
                f"Production mode needs the mdoc keys {', '.join(missing)}: set each (base64) or NAME_FILE. "
                "Generate them with 'python manage.py mdoc_certificates'."
            )
        signer = mdoc_pki.DocumentSigner(*(_decode(name, values[name]) for name in MDOC_KEY_NAMES))
        try:
            mdoc_pki.document_signer_load(signer)
        except mdoc_pki.MdocPkiInvalid as error:
            raise ImproperlyConfigured(f"The mdoc keys are not usable: {error}.") from None
        return signer

    def _mdoc_generated(self, issuer_url: str) -> dict[str, str]:
        # One file holds the whole chain, created with O_EXCL, so two processes starting at once agree on it.
        path = self.directory / "ONECARD_MDOC_CHAIN.json"
        if not path.exists():
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            values, iaca_key_pem = mdoc_chain_generate(issuer_url=issuer_url)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "w") as handle:
                    json.dump(values | {"ONECARD_MDOC_IACA_KEY_PEM": iaca_key_pem.decode("ascii")}, handle)
        stored = json.loads(path.read_text())
        return {name: stored[name] for name in MDOC_KEY_NAMES}

    def _read(self, name: str, *, stored: bool = True) -> str | None:
        value = self.environ.str(name, default="")
        if value:
            return value
        path = self.environ.str(f"{name}_FILE", default="")
        if path:
            try:
                return Path(path).read_text().strip()
            except OSError as error:
                raise ImproperlyConfigured(f"Cannot read {name}_FILE={path}: {error.strerror}.") from error
        path = self.directory / name
        if stored and self.generate and path.exists():
            return path.read_text().strip()
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


def mdoc_chain_generate(*, issuer_url: str, country: str = "CN") -> tuple[dict[str, str], bytes]:
    """Return a fresh IACA and document signer as base64 environment values, and the IACA key as PEM."""
    iaca_key, iaca_certificate = mdoc_pki.iaca_create(
        common_name="OneCard IACA", country=country, issuer_url=issuer_url
    )
    signer = mdoc_pki.document_signer_create(
        iaca_key=iaca_key,
        iaca_certificate=iaca_certificate,
        common_name="OneCard document signer",
        issuer_url=issuer_url,
    )
    return mdoc_pki.document_signer_environment(signer), mdoc_pki.private_key_pem(iaca_key)
