import re

from django.core.management.base import BaseCommand, CommandError

from cards.actions import signing_key_retire, signing_key_rotate
from cards.errors import SigningKeyUnknown
from cards.models import CardSigningKey

# A kid is an RFC 7638 thumbprint: 43 base64url characters, so one in 64 begins
# with "-" and argparse would read it as an option ("-h..." even as --help).
KID_WITH_LEADING_DASH = re.compile(r"^-[A-Za-z0-9_-]{42}$")


class Command(BaseCommand):
    help = "Manage card credentials: rotate_keys, retire_key KID, list_keys."

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parse_args = parser.parse_args

        def parse_args_kid_verbatim(args=None, namespace=None):
            """Pass a kid copied from list_keys as --kid=VALUE, which argparse takes verbatim."""
            if args is not None:
                given, args = list(args), []
                while given:
                    arg = given.pop(0)
                    if arg == "--kid" and given and KID_WITH_LEADING_DASH.match(given[0]):
                        arg = f"--kid={given.pop(0)}"  # "--kid -abc…": argparse wants the value joined
                    elif KID_WITH_LEADING_DASH.match(arg):
                        arg = f"--kid={arg}"
                    args.append(arg)
            return parse_args(args, namespace)

        parser.parse_args = parse_args_kid_verbatim
        return parser

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="subcommand", required=True, metavar="subcommand")
        commands.add_parser("rotate_keys", help="add a signing key; it signs from now on, older keys still verify")
        retire = commands.add_parser("retire_key", help="retire a key: it leaves the JWKS and stops verifying")
        retire.add_argument("kid", nargs="?")
        retire.add_argument("--kid", dest="kid_option", metavar="KID", help="the kid, for one that begins with -")
        commands.add_parser("list_keys", help="list signing keys, newest first")

    def handle(self, *args, subcommand: str, **options):
        if subcommand == "rotate_keys":
            key = signing_key_rotate()
            self.stdout.write(f"new signing key {key.kid}; older keys verify until retired")
        elif subcommand == "retire_key":
            kid = options["kid_option"] or options["kid"]
            if not kid:
                raise CommandError("retire_key needs the kid of the key to retire (see list_keys)")
            try:
                key = signing_key_retire(kid=kid)
            except SigningKeyUnknown as error:
                raise CommandError(str(error)) from None
            self.stdout.write(f"retired {key.kid}")
        else:
            rows = list(CardSigningKey.objects.order_by("-id"))
            signer = next((key for key in rows if key.retired_at is None), None)
            for key in rows:
                state = "retired" if key.retired_at else ("signing" if key == signer else "verifying")
                self.stdout.write(f"{key.kid}  {key.created_at:%Y-%m-%d %H:%M}  {state}")
