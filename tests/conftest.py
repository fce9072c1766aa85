import pytest

# Lets transactional tests flush the ledger's append-only tables; see the module.
pytest_plugins = ["tests.ledger.database"]


@pytest.fixture(autouse=True)
def _media_and_keys_isolated(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    # The embedded default's in-process witness: its own state for each test's own log.
    settings.ONECARD_LEDGER_LOCAL_WITNESS_DIR = tmp_path / "witness"


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
