import json
import sys

from django.core.management.base import BaseCommand, CommandError

from ledger import note
from ledger.actions import verification_run, witness_register
from ledger.sequencer import sequence


class Command(BaseCommand):
    help = "Seal pending entries into the log, verify the whole log, or register a witness."

    def add_arguments(self, parser):
        subcommands = parser.add_subparsers(dest="subcommand", required=True)
        subcommands.add_parser("seal", help="sequence everything pending and sign a checkpoint")
        verify = subcommands.add_parser("verify", help="recompute every leaf, subtree and checkpoint")
        verify.add_argument("--json", action="store_true", help="print the outcome as JSON")
        witness = subcommands.add_parser("witness-add", help="register a witness by its cosignature verifier key")
        witness.add_argument("verifier_key")

    def handle(self, *args, subcommand, **options):
        getattr(self, "handle_" + subcommand.replace("-", "_"))(**options)

    def handle_seal(self, **options):
        result = sequence()
        self.stdout.write(f"sequenced {result.sequenced}; tree size {result.tree_size}; root {result.root.hex()}")

    def handle_verify(self, *, json: bool = False, **options):
        run = self._verify_with_progress(show=not json and sys.stderr.isatty())
        if json:
            self.stdout.write(_json_dumps(run))
        elif run.ok:
            self.stdout.write(f"ok: {run.tree_size} entries, {run.checkpoints_checked} checkpoints verified")
        else:
            self.stdout.write(f"first bad entry: {run.first_bad_index}\n{run.reason}")
        if not run.ok:
            sys.exit(1)

    def handle_witness_add(self, *, verifier_key: str, **options):
        try:
            witness = witness_register(verifier_key=verifier_key)
        except note.NoteError as error:
            raise CommandError(f"verifier_key: {error}") from error
        self.stdout.write(f"witness {witness.name} registered")

    def _verify_with_progress(self, *, show: bool):
        if not show:
            return verification_run()
        from tqdm import tqdm

        bar = tqdm(desc="verifying", unit=" entries", file=sys.stderr, unit_scale=True)

        def total(count):
            bar.total = count
            bar.refresh()

        try:
            return verification_run(progress=bar.update, total=total)
        finally:
            bar.close()


def _json_dumps(run) -> str:
    return json.dumps(
        {
            "ok": run.ok,
            "tree_size": run.tree_size,
            "checkpoints_checked": run.checkpoints_checked,
            "first_bad_index": run.first_bad_index,
            "reason": run.reason,
        }
    )
