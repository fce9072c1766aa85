"""Every tamper class against the checks held outside the operator: a mirror process and the resident's browser.

For each class of ``tests.ledger.tampers.TAMPERS``: an honest log is sealed
and witnessed, and a mirror (ledger/tools/onecard_mirror.py, a separate
process over HTTP) copies it. Then the insider tampers with the database and
does what they can to push it out: runs the sequencer, rebuilds the tiles and
pushes to the witnesses. The mirror runs again. It must either still hold only
the honest tree or refuse the log (exit 1, a REFUSED line), never hold a
forged tree. Then the resident's check in real Chromium (static/js/verify.js,
``verifyEntry``) proves every entry the portal can still make a proof bundle
for against the mirror's copy: none whose bytes were forged may verify.

What the browser cannot see, it cannot check: an entry deleted from the
database is missing from the resident's list, not shown as forged. Deletions
are caught by ``ledger verify`` and the mirror (tests/ledger/test_tamper.py,
and the REFUSED and honest-copy assertions here).
"""

import base64
import contextlib
import functools
import json
import os
import subprocess
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.db import DatabaseError, connection, transaction

from ledger import tiles
from ledger.models import Entry
from ledger.selectors import ProofUnavailable, proof_bundle
from ledger.sequencer import LogTampered, log_verifier_key, sequence
from ledger.tools import tlog
from ledger.witnessing import checkpoints_push
from tests.ledger import brute
from tests.ledger.database import triggers_lifted
from tests.ledger.tampers import SIZE, TAMPERS, honest_log

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # pytest-django's live_server with Playwright's sync API

ROOT = Path(__file__).resolve().parents[2]
MIRROR = ROOT / "ledger" / "tools" / "onecard_mirror.py"
VERIFY_JS = ROOT / "static" / "js" / "verify.js"
CHROMIUM = "/usr/bin/chromium"

pytestmark = pytest.mark.django_db(transaction=True)


def _mirror_once(log_url: str, directory: Path) -> tuple[int, str]:
    """Run one round of the mirror as its operator would (its own process, no project on its path)."""
    done = subprocess.run(
        [sys.executable, "-I", str(MIRROR), "--log", log_url, "--log-key", log_verifier_key()]
        + ["--dir", str(directory), "--once"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout + done.stderr


def _held(directory: Path) -> tuple[int, bytes]:
    note = (directory / "checkpoint").read_text()
    _, _, size, root = tlog.checkpoint_verify(note, log_verifier_key())
    return size, root


class _CorsHandler(SimpleHTTPRequestHandler):
    def end_headers(self):
        self.send_header("Access-Control-Allow-Origin", "*")
        super().end_headers()

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def _served(directory: Path):
    """Serve the mirror's copy as tlog-tiles, as its --listen would (a refused mirror has stopped serving)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_CorsHandler, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


@pytest.fixture(scope="module")
def browser_page():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed; the browser tests run in CI")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
        yield browser.new_page()
        browser.close()


def _insider_pushes_it_out() -> None:
    """What an operator with the database does next: sequence, republish every tile, push to the witnesses."""
    with contextlib.suppress(LogTampered):
        sequence()
    with contextlib.suppress(tiles.TilesMismatch, tlog.TlogError):
        tiles.tiles_publish(rebuild=True)
    checkpoints_push()


@pytest.mark.parametrize("tamper", TAMPERS, ids=[tamper.name for tamper in TAMPERS])
def test_a_mirror_and_the_browser_never_take_a_tampered_log_for_the_honest_one(
    ledger_context, live_server, tmp_path, browser_page, tamper
):
    if connection.vendor not in tamper.vendors:
        pytest.skip(f"{tamper.name} exists only on {', '.join(tamper.vendors)}")
    honest_log()
    honest_entries = {index: bytes(data) for index, data in Entry.objects.values_list("index", "entry_bytes")}
    honest_root = brute.mth(brute.stored_leaves())
    copy = tmp_path / "mirror"
    assert _mirror_once(live_server.url + "/log", copy)[0] == 0
    assert _held(copy) == (SIZE, honest_root)

    if tamper.outcome == "prevented":
        with pytest.raises(DatabaseError), transaction.atomic():
            tamper.perform()
    elif tamper.lift:
        with triggers_lifted(connection):
            tamper.perform()
    else:
        tamper.perform()
    _insider_pushes_it_out()
    status, output = _mirror_once(live_server.url + "/log", copy)

    # The mirror holds the honest tree, or its extension by the one honest pending access, or refuses
    # (1); a log that publishes no checkpoint any more is unreachable to it (2), and it keeps its copy.
    assert status in (0, 1, 2), output
    size, root = _held(copy)
    held_leaves = tlog.entries_bundle_parse((copy / tlog.tile_path("entries", 0, size)).read_bytes())
    assert brute.mth(held_leaves[:SIZE]) == honest_root, output
    assert size in (SIZE, SIZE + 1) and brute.mth(held_leaves) == root, output
    if status == 1:
        assert "REFUSED" in output

    with _served(copy) as mirror_url:
        # A page of the mirror's origin: WebCrypto needs a secure context, which http://127.0.0.1 is.
        browser_page.goto(mirror_url + "/")
        browser_page.add_script_tag(content=VERIFY_JS.read_text())
        for index, honest in honest_entries.items():
            try:
                bundle = proof_bundle(index=index)
            except (ProofUnavailable, LookupError):
                continue  # deleted or unprovable here: the resident's list does not show it
            outcome = browser_page.evaluate(
                "([b, k, u]) => window.OneCardVerify.verifyEntry(b, k, u)", [bundle, log_verifier_key(), mirror_url]
            )
            shown = base64.b64decode(bundle["entry_bytes"])
            # A forged entry never verifies, and an honest one always does.
            assert outcome["ok"] is (shown == honest), (index, json.loads(shown), outcome)
            if not outcome["ok"]:
                assert outcome["code"] in ("commitment", "inclusion"), outcome
