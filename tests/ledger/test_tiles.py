"""The log as C2SP tlog-tiles under /log/: paths, layout, writing after commit, and an outside client over HTTP."""

import base64
import json

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from ledger import tiles
from ledger.api import record_bulk
from ledger.models import Alert, Checkpoint, Entry
from ledger.sequencer import log_verifier_key, sequence
from ledger.tools import tlog


def _grow(count: int, start: int = 0) -> None:
    """Record COUNT accesses in one bulk insert; the sequencer integrates them on commit."""
    record_bulk(action="cards.residents.lookup", subjects=[f"resident:{n}" for n in range(start, start + count)])


def _client(live_server):
    fetch = tlog.http_fetcher(live_server.url + "/log")
    key = tlog.http_fetcher(live_server.url + "/ledger")("key").decode().strip()
    return fetch, key


def test_tile_paths_are_encoded_as_the_spec_says():
    assert tlog.tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert tlog.tile_path(2, 5, 1) == "tile/2/005.p/1"
    assert tlog.tile_path("entries", 1000, 17) == "tile/entries/x001/000.p/17"
    assert tlog.tile_path_parse("tile/0/x001/x234/067") == (0, 1234067, 256)
    assert tlog.tile_path_parse("tile/entries/x001/000.p/17") == ("entries", 1000, 17)


@pytest.mark.parametrize(
    "path",
    [
        "tile/00/000",
        "tile/64/000",
        "tile/0/5",
        "tile/0/x000/005",
        "tile/0/000.p/0",
        "tile/0/000.p/256",
        "tile/0/000.p/07",
    ],
)
def test_non_canonical_tile_paths_are_refused(path):
    with pytest.raises(tlog.TlogError):
        tlog.tile_path_parse(path)


def test_a_tree_of_70000_has_the_tiles_the_spec_lists():
    builder = tlog.TileBuilder()
    full = []
    for n in range(70_000):
        builder.append(n.to_bytes(4, "big"))
        full += [path for path, _ in builder.take_full()]

    level0 = [path for path in full if path.startswith("tile/0/")]
    assert len(level0) == 273
    assert [path for path in full if path.startswith("tile/1/")] == ["tile/1/000"]
    assert len([path for path in full if path.startswith("tile/entries/")]) == 273
    assert [path for path, _ in builder.partial_tiles()] == [
        "tile/0/273.p/112",
        "tile/1/001.p/17",
        "tile/2/000.p/1",
        "tile/entries/273.p/112",
    ]


@pytest.mark.django_db
def test_the_tiles_of_a_sequenced_batch_are_written_only_once_it_commits(ledger_context):
    with transaction.atomic():
        _grow(3)
        sequence()
        assert tiles.tile_read(path="tile/0/000.p/3") is None

    assert tiles.tile_read(path="tile/0/000.p/3") is None


@pytest.mark.django_db(transaction=True)
def test_a_tile_is_served_like_a_static_file_whatever_session_or_language_the_request_carries(
    ledger_context, client, django_user_model
):
    _grow(256)
    resident = django_user_model.objects.create_user(username="tile-reader", password="x" * 20)
    client.force_login(resident)

    response = client.get("/log/tile/0/000", HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert response.status_code == 200
    # Identical bytes for everyone, so any cache or CDN may share them: nothing varies, nothing is set.
    assert "Set-Cookie" not in response.headers
    assert "Vary" not in response.headers
    assert "Content-Language" not in response.headers
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert client.post("/log/tile/0/000").status_code == 405


@pytest.mark.django_db(transaction=True)
def test_reading_a_tile_costs_no_database_query(ledger_context, client, django_assert_num_queries):
    _grow(300)

    with django_assert_num_queries(0):
        full = client.get("/log/tile/0/000")
        partial = client.get("/log/tile/entries/001.p/44")
        missing = client.get("/log/tile/0/002")

    assert full.status_code == 200
    assert full["Content-Type"] == "application/octet-stream"
    assert full["Cache-Control"] == "public, max-age=31536000, immutable"
    assert len(full.content) == 8192
    assert partial.status_code == 200
    assert len(tlog.entries_bundle_parse(partial.content)) == 44
    assert missing.status_code == 404
    assert "immutable" not in missing["Cache-Control"]
    assert client.head("/log/tile/0/000").status_code == 200  # CDNs and caches probe with HEAD


@pytest.mark.django_db(transaction=True)
def test_the_log_checkpoint_is_the_ledger_checkpoint_and_is_not_cached(ledger_context, client):
    _grow(5)

    response = client.get("/log/checkpoint")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Cache-Control"] == "no-store"
    assert response.content == client.get("/ledger/checkpoint").content


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("size", [1, 255, 256, 257])
def test_an_outside_client_rebuilds_the_signed_root_from_the_tiles_alone(ledger_context, live_server, size):
    _grow(size)
    fetch, key = _client(live_server)

    note, tree_size, root, builder = tlog.log_follow(fetch, key)

    assert key == log_verifier_key()
    assert (tree_size, root) == (size, bytes(Checkpoint.objects.get(tree_size=size).root_hash))
    assert builder.root() == root


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_an_outside_client_rebuilds_a_log_of_70000_entries(ledger_context, live_server):
    _grow(70_000)
    fetch, key = _client(live_server)

    _, tree_size, root, _ = tlog.log_follow(fetch, key)

    assert tree_size == 70_000
    assert root == bytes(Checkpoint.objects.get(tree_size=70_000).root_hash)
    assert len(fetch("tile/2/000.p/1")) == 32


@pytest.mark.django_db(transaction=True)
def test_partial_tiles_become_full_and_a_full_tile_never_changes(ledger_context, live_server):
    fetch, key = _client(live_server)
    _grow(200)
    _, _, _, held = tlog.log_follow(fetch, key)
    partial = fetch("tile/0/000.p/200")

    _grow(100, start=200)
    _, _, _, held = tlog.log_follow(fetch, key, held)
    full = fetch("tile/0/000")
    _grow(400, start=300)
    _, size, _, _ = tlog.log_follow(fetch, key, held)

    assert full[: len(partial)] == partial
    assert fetch("tile/0/000") == full
    assert size == 700


@pytest.mark.django_db(transaction=True)
def test_the_rebuild_command_writes_the_missing_tiles_again_with_the_same_bytes(ledger_context, settings):
    _grow(600)
    before = {path: tiles.tile_read(path=path) for path in ("tile/0/000", "tile/0/001", "tile/0/002.p/88")}
    storage = tiles.tiles_storage()
    storage.delete("tile/0/001")
    storage.delete(tiles.STATE_NAME)

    call_command("ledger", "tiles", "--rebuild")

    assert {path: tiles.tile_read(path=path) for path in before} == before


@pytest.mark.django_db(transaction=True)
def test_no_tile_is_published_for_a_checkpoint_the_entries_do_not_hash_to(ledger_context):
    _grow(11)
    # As an operator with database access would: append an entry and sign a checkpoint the entries do not give.
    data = b'{"forged":true}'
    Entry(index=11, subject="x", entry_bytes=data, salt=bytes(32), leaf_hash=tlog.leaf_hash(data)).save()
    Checkpoint(tree_size=12, root_hash=bytes(32), note="forged\n", created_at=timezone.now()).save()

    with pytest.raises(tiles.TilesMismatch):
        tiles.tiles_publish()

    assert tiles.tiles_state()[0] == 11
    assert tiles.tile_read(path="tile/0/000.p/12") is None
    assert Alert.objects.filter(message__contains="size 12").exists()


@pytest.mark.django_db(transaction=True)
def test_tiles_left_by_another_log_are_rewritten(ledger_context):
    _grow(10)
    good = tiles.tile_read(path="tile/0/000.p/10")
    storage = tiles.tiles_storage()
    # A development database reset next to the old var/tiles: the stored state names a tree this log never signed.
    stale = {"tree_size": 10, "root": base64.b64encode(bytes(32)).decode()}
    storage.save(tiles.STATE_NAME, ContentFile(json.dumps(stale).encode()))
    storage.save("tile/0/000.p/10", ContentFile(b"\x00" * 320))

    _grow(5, start=10)

    assert tiles.tiles_state()[0] == 15
    assert tiles.tile_read(path="tile/0/000.p/10") == good


def test_the_tile_builder_gives_the_roots_of_the_sequencers_merkle_tree():
    from ledger import merkle

    builder, frontier = tlog.TileBuilder(), merkle.Frontier()
    sizes = [*range(1, 600), 4_099, 65_535, 65_536, 65_537, 66_000]
    for size in sizes:
        leaves = [n.to_bytes(3, "big") for n in range(builder.size, size)]
        builder.extend(leaves)
        for leaf in leaves:
            frontier.append(merkle.leaf_hash(leaf))
        resumed = tlog.TileBuilder.resume(size, builder.leaves, dict(enumerate(builder.partial)))
        assert builder.root() == resumed.root() == frontier.root(), size


@pytest.mark.django_db(transaction=True)
def test_a_tile_storage_outage_delays_the_tiles_and_never_the_log(ledger_context, settings, tmp_path):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the tile directory should be")
    settings.STORAGES = {
        **settings.STORAGES,
        "ledger_tiles": {**settings.STORAGES["ledger_tiles"], "OPTIONS": {"location": blocked}},
    }

    _grow(300)
    sealed = sequence()  # as `ledger seal` would, outside any on-commit hook

    assert sealed.tree_size == 300
    assert Checkpoint.objects.filter(tree_size=300).exists()
    settings.STORAGES = {
        **settings.STORAGES,
        "ledger_tiles": {**settings.STORAGES["ledger_tiles"], "OPTIONS": {"location": tmp_path / "tiles-back"}},
    }
    _grow(5, start=300)
    assert tiles.tiles_state()[0] == 305
    assert len(tiles.tile_read(path="tile/0/000")) == 8192


@pytest.mark.django_db(transaction=True)
def test_a_client_reads_an_older_checkpoint_from_full_tiles_once_its_partial_ones_are_not_served(
    ledger_context, live_server
):
    with transaction.atomic():
        _grow(300)
        sequence()
        _grow(300, start=300)
        sequence()
    # One publication wrote both checkpoints' tiles; size 300's partial tiles are inside full ones.
    assert tiles.tile_read(path="tile/0/001.p/44") is None
    log, key = _client(live_server)
    older = tlog.http_fetcher(live_server.url + "/ledger")("checkpoint?tree_size=300")

    def fetch(path):
        # A client that still holds the checkpoint of size 300, e.g. the last one published.
        return older if path == "checkpoint" else log(path)

    _, size, root, builder = tlog.log_follow(fetch, key)

    assert (size, root) == (300, bytes(Checkpoint.objects.get(tree_size=300).root_hash))
    assert len(builder.leaves) == 44


@pytest.mark.django_db(transaction=True)
def test_entry_bundles_are_public_and_carry_only_commitments(ledger_context, client):
    _grow(300)

    bundle = client.get("/log/tile/entries/000")

    assert bundle.status_code == 200
    assert bundle["Cache-Control"] == tiles.FULL_TILE_CACHE
    leaves = tlog.entries_bundle_parse(bundle.content)
    assert len(leaves) == 256
    assert {len(leaf) for leaf in leaves} == {33} and {leaf[0] for leaf in leaves} == {0x01}
    assert b"resident:" not in bundle.content and b"cards." not in bundle.content
