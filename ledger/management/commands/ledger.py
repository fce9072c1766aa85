import json
import sys

from django.core.management.base import BaseCommand, CommandError

from ledger import note
from ledger.actions import verification_run, witness_register
from ledger.sequencer import sequence
from ledger.tiles import TilesMismatch, tiles_publish


class Command(BaseCommand):
    help = "Seal pending entries into the log, verify the whole log, write its tiles, or register a witness."

    def add_arguments(self, parser):
        subcommands = parser.add_subparsers(dest="subcommand", required=True)
        subcommands.add_parser("seal", help="sequence everything pending and sign a checkpoint")
        verify = subcommands.add_parser("verify", help="recompute every leaf, subtree and checkpoint")
        verify.add_argument("--json", action="store_true", help="print the outcome as JSON")
        tiles = subcommands.add_parser("tiles", help="write the tlog-tiles of every signed checkpoint not yet tiled")
        tiles.add_argument(
            "--rebuild", action="store_true", help="start from the first entry and write every missing tile"
        )
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

    def handle_tiles(self, *, rebuild: bool = False, **options):
        show = sys.stderr.isatty()
        bar = None
        if show:
            from tqdm import tqdm

            bar = tqdm(desc="tiling", unit=" entries", file=sys.stderr, unit_scale=True)
        try:
            size = tiles_publish(rebuild=rebuild, progress=bar.update if bar else None)
        except TilesMismatch as error:
            raise CommandError(str(error)) from error
        finally:
            if bar is not None:
                bar.close()
        self.stdout.write(f"tiles cover tree size {size}")

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
