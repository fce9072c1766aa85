import os
from pathlib import Path

from cryptography import x509
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cards import mdoc_pki


class Command(BaseCommand):
    help = (
        "Certify a new mdoc document signer with the offline IACA key and print the three ONECARD_MDOC_* "
        "environment lines; with --new-iaca, make a new IACA root first."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--iaca-key", type=Path, required=True, help="the IACA private key (PEM)")
        parser.add_argument(
            "--iaca-certificate",
            type=Path,
            help="the IACA certificate (PEM or DER); default: ONECARD_MDOC_IACA_CERTIFICATE of this server",
        )
        parser.add_argument(
            "--new-iaca",
            action="store_true",
            help="make a new IACA root and write its key to --iaca-key (which must not exist yet)",
        )
        parser.add_argument("--country", default="CN", help="the IACA's country (ISO 3166-1 alpha-2), with --new-iaca")

    def handle(self, *args, iaca_key: Path, iaca_certificate: Path | None, new_iaca: bool, country: str, **options):
        issuer_url = settings.ONECARD_CREDENTIAL_ISSUER_URL
        if new_iaca:
            key, certificate = mdoc_pki.iaca_create(common_name="OneCard IACA", country=country, issuer_url=issuer_url)
            try:
                fd = os.open(iaca_key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except OSError as error:
                raise CommandError(f"{iaca_key}: {error.strerror}") from None
            with os.fdopen(fd, "wb") as handle:
                handle.write(mdoc_pki.private_key_pem(key))
            self.stderr.write(f"wrote the new IACA key to {iaca_key}: keep it offline")
        else:
            try:
                key = mdoc_pki.private_key_from_pem(iaca_key.read_bytes())
                certificate = self._certificate(iaca_certificate)
            except OSError as error:
                raise CommandError(f"{error.filename}: {error.strerror}") from None
            except (mdoc_pki.MdocPkiInvalid, ValueError) as error:
                raise CommandError(str(error)) from None
        try:
            signer = mdoc_pki.document_signer_create(
                iaca_key=key, iaca_certificate=certificate, common_name="OneCard document signer", issuer_url=issuer_url
            )
        except mdoc_pki.MdocPkiInvalid as error:
            raise CommandError(str(error)) from None
        for name, value in mdoc_pki.document_signer_environment(signer).items():
            self.stdout.write(f"{name}={value}")

    def _certificate(self, path: Path | None) -> x509.Certificate:
        if path is None:
            return x509.load_der_x509_certificate(settings.ONECARD_MDOC_SIGNER.iaca_certificate_der)
        return mdoc_pki.certificate_read(path.read_bytes())
