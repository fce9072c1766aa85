import contextlib
import json

import pytest

# Lets transactional tests flush the ledger's append-only tables; see the module.
pytest_plugins = ["tests.ledger.database"]


@pytest.fixture(autouse=True)
def _media_and_keys_isolated(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    # The embedded default's in-process witness: its own state for each test's own log.
    settings.ONECARD_LEDGER_LOCAL_WITNESS_DIR = tmp_path / "witness"
    settings.STORAGES = {
        **settings.STORAGES,
        "ledger_tiles": {**settings.STORAGES["ledger_tiles"], "OPTIONS": {"location": tmp_path / "tiles"}},
    }


@pytest.fixture
def ledger_context():
    """Open an access context as a registrar working from a command."""
    from ledger.api import Actor, access_context

    with access_context(
        actor=Actor(type="staff", id="test-registrar"), role="registrar", channel="command", purpose="registration"
    ) as context:
        yield context


@pytest.fixture(autouse=True)
def _card_signing_keys_forgotten():
    """Drop cached card signing keys: each test's database starts without them."""
    from cards.signing import keys_cache_clear

    keys_cache_clear()
    yield
    keys_cache_clear()


@pytest.fixture(autouse=True, scope="session")
def _celery_tasks_run_inline():
    """Run Celery tasks inline in the test process, with or without Redis; the smoke test starts real workers."""
    from portal.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True


@pytest.fixture(autouse=True)
def _language_default():
    """Start each test in the default language: a page a test client asked for in Chinese leaves the thread
    in Chinese (LocaleMiddleware activates a language and nothing deactivates it), and a later test that
    reads an English message would depend on the order the tests ran in."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture
def ledger_sequenced():
    """Return a function that sequences every pending record, as the sequencer does after a commit, and
    returns the log's entries (decoded, oldest first) whose fields equal FILTERS.

    Inside a test's transaction nothing commits, so records stay in the pending
    table, where no production read path looks. Call this before reading the
    ledger back through a selector or the log.
    """
    from ledger.models import Entry
    from ledger.sequencer import sequence

    def run(**filters) -> list[dict]:
        sequence()
        rows = Entry.objects.order_by("index").values_list("entry_bytes", flat=True)
        entries = [json.loads(bytes(data)) for data in rows]
        return [entry for entry in entries if all(entry.get(key) == value for key, value in filters.items())]

    return run


@pytest.fixture
def commit_path(django_capture_on_commit_callbacks, ledger_sequenced):
    """Return a context manager that runs, when its block ends, what a commit of the block runs:
    its on-commit callbacks, then the sequencer (whose on-commit trigger may have been queued before the block).
    """

    @contextlib.contextmanager
    def run():
        with django_capture_on_commit_callbacks(execute=True):
            yield
        ledger_sequenced()

    return run
