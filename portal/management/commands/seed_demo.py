import json
import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ledger.api import Actor, access_context
from portal import demo


class Command(BaseCommand):
    help = "Create or refresh the demo residents, caseworkers and agencies (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", dest="as_json", help="print the demo logins as JSON")
        parser.add_argument("--force", action="store_true", help="allow running in production mode")
        parser.add_argument(
            "--json-file",
            help="also write the JSON to this file (mode 0600): the keys printed are then the keys in the file",
        )

    def handle(self, *args, as_json: bool = False, force: bool = False, json_file: str | None = None, **options):
        if settings.PRODUCTION and not force:
            raise CommandError("seed_demo creates logins with published passwords; refusing in production mode.")
        with access_context(
            actor=Actor(type="system", id="seed_demo"), role="system", channel="command", purpose="demo-seeding"
        ):
            citizens = demo.seed_residents()
            caseworkers = demo.seed_caseworkers()
            agencies = demo.seed_agencies(residents=[c["resident"] for c in citizens])
            demo.seed_services(residents=citizens)
            demo.seed_grants(residents=citizens)
        witnessed = demo.seed_witness_round()
        payload = {
            "citizens": [
                {
                    "username": c["username"],
                    "password": c["password"],
                    "national_id": c["national_id"],
                    "card_number": c.get("card_number"),
                    "card_token": c.get("card_token"),
                }
                for c in citizens
            ],
            "caseworkers": caseworkers,
            "agencies": agencies,
        }
        if json_file:
            path = Path(json_file)
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(_dumps(payload) + "\n")
        if as_json:
            self.stdout.write(_dumps(payload))
            return
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write("Residents (portal, http://127.0.0.1:8000/):")
        for c in payload["citizens"]:
            self.stdout.write(f"  {c['username']:<12} password {c['password']}  national ID {c['national_id']}")
        self.stdout.write("Caseworkers (admin, http://127.0.0.1:8000/admin/, TOTP secret for an authenticator app):")
        for c in caseworkers:
            self.stdout.write(
                f"  {c['username']:<12} password {c['password']}  TOTP {c['totp_secret']}  roles {','.join(c['roles'])}"
            )
        for a in agencies:
            self.stdout.write(f"  agency {a['code']:<10} key {a['api_key']}")
        self.stdout.write(f"Ledger: {witnessed}")


def _dumps(payload) -> str:
    return json.dumps(payload, ensure_ascii=False, indent=2)
