import json
import sys

from django.core.management.base import BaseCommand, CommandError

from ledger import note
from ledger.actions import verification_run, witness_register
from ledger.sequencer import LogTampered
from ledger.tiles import TilesMismatch, tiles_publish
from ledger.verification import Anchor
from ledger.witnessing import log_seal


class Command(BaseCommand):
    help = "Seal pending entries into the log, verify the whole log, write its tiles, or register a witness."

    def add_arguments(self, parser):
        subcommands = parser.add_subparsers(dest="subcommand", required=True)
        subcommands.add_parser(
            "seal", help="sequence everything pending, sign a checkpoint and have the witnesses cosign it"
        )
        verify = subcommands.add_parser("verify", help="recompute every leaf, subtree and checkpoint")
        verify.add_argument("--json", action="store_true", help="print the outcome as JSON")
        verify.add_argument(
            "--checkpoint",
            metavar="FILE",
            help="anchor on this signed checkpoint (a note you hold) instead of asking the policy's witnesses",
        )
        subcommands.add_parser("key", help="print the log's note verifier key (what /ledger/key serves)")
        subcommands.add_parser("check-grants", help="check the database roles: only the sequencer writes the log")
        grants = subcommands.add_parser("grants-sql", help="print the GRANTs that give each database role its part")
        grants.add_argument("--web-role", required=True, help="the role of the web processes and workers")
        grants.add_argument("--sequencer-role", required=True, help="the role only the sequencer logs in as")
        tiles = subcommands.add_parser("tiles", help="write the tlog-tiles of every signed checkpoint not yet tiled")
        tiles.add_argument(
            "--rebuild", action="store_true", help="start from the first entry and write every missing tile"
        )
        export = subcommands.add_parser(
            "export-entries", help="write the entries and their salts not yet exported, for an accredited mirror"
        )
        export.add_argument("--dir", required=True, help="the directory the mirror's --entries reads")
        witness = subcommands.add_parser("witness-add", help="register a witness by its cosignature verifier key")
        witness.add_argument("verifier_key")

    def handle(self, *args, subcommand, **options):
        getattr(self, "handle_" + subcommand.replace("-", "_"))(**options)

    def handle_seal(self, **options):
        try:
            sealed = log_seal()
        except LogTampered as error:
            raise CommandError(f"the sequencer refused to sign: {error}") from error
        size = sealed["tree_size"]
        self.stdout.write(f"sequenced {sealed['sequenced']}; tree size {size}; root {sealed['root'].hex()}")
        for outcome in sealed["witnesses"]:
            self.stdout.write(f"witness {outcome.witness}: {outcome.status} {outcome.detail}".rstrip())
        if sealed["published_size"] == size:
            self.stdout.write(f"published tree size {size}")
        else:
            self.stdout.write(
                f"not published yet: the witness quorum has not cosigned tree size {size}; "
                f"the published tree size stays {sealed['published_size']}"
            )

    def handle_key(self, **options):
        from ledger.sequencer import log_verifier_key

        self.stdout.write(log_verifier_key())

    def handle_check_grants(self, **options):
        from ledger.grants import grants_check

        problems = grants_check()
        for problem in problems:
            self.stdout.write(problem)
        if problems:
            sys.exit(1)
        self.stdout.write("ok: only the sequencer's role can write the log")

    def handle_grants_sql(self, *, web_role: str, sequencer_role: str, **options):
        from ledger.grants import grant_statements

        for statement in grant_statements(web_role=web_role, sequencer_role=sequencer_role):
            self.stdout.write(statement + ";")

    def handle_verify(self, *, json: bool = False, checkpoint: str | None = None, **options):
        anchors = None
        if checkpoint:
            try:
                with open(checkpoint, encoding="utf-8") as handle:
                    anchors = [Anchor(source=checkpoint, note=handle.read())]
            except (OSError, UnicodeDecodeError) as error:
                raise CommandError(f"--checkpoint: {error}") from error
        run = self._verify_with_progress(show=not json and sys.stderr.isatty(), anchors=anchors)
        if json:
            self.stdout.write(_json_dumps(run))
        elif run.ok:
            anchor = (
                f"; anchored on checkpoint {run.anchor_size} held by {run.anchor_source}"
                if run.anchor_source
                else "; no checkpoint held outside the database to anchor on"
            )
            self.stdout.write(f"ok: {run.tree_size} entries, {run.checkpoints_checked} checkpoints verified{anchor}")
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

    def handle_export_entries(self, *, dir: str, **options):
        from ledger.exports import entries_export

        first, end = entries_export(directory=dir)
        self.stdout.write(f"exported entries {first} to {end - 1}" if end > first else f"nothing new: {end} entries")

    def handle_witness_add(self, *, verifier_key: str, **options):
        try:
            witness = witness_register(verifier_key=verifier_key)
        except note.NoteError as error:
            raise CommandError(f"verifier_key: {error}") from error
        self.stdout.write(f"witness {witness.name} registered")

    def _verify_with_progress(self, *, show: bool, anchors):
        if not show:
            return verification_run(anchors=anchors)
        from tqdm import tqdm

        bar = tqdm(desc="verifying", unit=" entries", file=sys.stderr, unit_scale=True)

        def total(count):
            bar.total = count
            bar.refresh()

        try:
            return verification_run(progress=bar.update, total=total, anchors=anchors)
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
            "anchor_size": run.anchor_size,
            "anchor_source": run.anchor_source,
        }
    )
