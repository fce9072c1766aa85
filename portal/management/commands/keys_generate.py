import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from portal.keys import generate_all, mdoc_chain_generate


class Command(BaseCommand):
    help = (
        "Print a fresh set of OneCard keys as environment lines, for a production secret store, "
        "including a new mdoc IACA and document signer."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--iaca-key-out",
            type=Path,
            help="write the new mdoc IACA private key here (PEM, mode 0600) to keep it offline; "
            "without it the IACA key is discarded and the next document signer needs a new IACA",
        )

    def handle(self, *args, iaca_key_out: Path | None = None, **options):
        environment, iaca_key_pem = mdoc_chain_generate(issuer_url=settings.ONECARD_CREDENTIAL_ISSUER_URL)
        if iaca_key_out is not None:
            try:
                fd = os.open(iaca_key_out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except OSError as error:
                raise CommandError(f"{iaca_key_out}: {error.strerror}") from None
            with os.fdopen(fd, "wb") as handle:
                handle.write(iaca_key_pem)
        for name, value in generate_all(sorted(set(settings.KEYS.names))).items():
            self.stdout.write(f"{name}={value}")
        for name, value in environment.items():
            self.stdout.write(f"{name}={value}")
