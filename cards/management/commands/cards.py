from django.core.management.base import BaseCommand, CommandError

from cards.actions import signing_key_retire, signing_key_rotate
from cards.errors import SigningKeyUnknown
from cards.models import CardSigningKey


class Command(BaseCommand):
    help = "Manage card credentials: rotate_keys, retire_key KID, list_keys."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="subcommand", required=True, metavar="subcommand")
        commands.add_parser("rotate_keys", help="add a signing key; it signs from now on, older keys still verify")
        retire = commands.add_parser("retire_key", help="retire a key: it leaves the JWKS and stops verifying")
        retire.add_argument("kid")
        commands.add_parser("list_keys", help="list signing keys, newest first")

    def handle(self, *args, subcommand: str, **options):
        if subcommand == "rotate_keys":
            key = signing_key_rotate()
            self.stdout.write(f"new signing key {key.kid}; older keys verify until retired")
        elif subcommand == "retire_key":
            try:
                key = signing_key_retire(kid=options["kid"])
            except SigningKeyUnknown as error:
                raise CommandError(str(error)) from None
            self.stdout.write(f"retired {key.kid}")
        else:
            rows = list(CardSigningKey.objects.order_by("-id"))
            signer = next((key for key in rows if key.retired_at is None), None)
            for key in rows:
                state = "retired" if key.retired_at else ("signing" if key == signer else "verifying")
                self.stdout.write(f"{key.kid}  {key.created_at:%Y-%m-%d %H:%M}  {state}")
