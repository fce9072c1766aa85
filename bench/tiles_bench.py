"""Tile reads on the production shape: gunicorn serving /log/tile/ from the tile storage, loaded by wrk.

    DATABASE_URL=postgres://… REDIS_URL=redis://… python -m bench.tiles_bench [--rounds 8] [--seconds 3]

Row:
- ledger.tiles.read_per_s: GET /log/tile/0/000 (a full hash tile, 8,192 bytes) per second, as a
  ratio to GET of a static file of the same bytes that WhiteNoise serves from the same gunicorn,
  in the same run. The two alternate in short slices; the ratio is the median of the per-round
  ratios, value and baseline the median throughputs.

The log is 1,000 entries recorded and sequenced through ledger.api, so the
sequencer writes the tiles as it does in production. It makes its own database
(onecard_bench_tiles, next to the one in DATABASE_URL) and drops it afterwards.
"""

import argparse
import json
import os
import statistics
import sys

from bench.common import ROOT, row
from bench.http_bench import _wrk
from tests.support.stack import Stack, http, throwaway_database

DATABASE = "onecard_bench_tiles"
WEB_WORKERS = int(os.environ.get("BENCH_WEB_WORKERS", "5"))
TILE = "/log/tile/0/000"

GROW = """
from portal.celery import app
from ledger.api import Actor, access_context, record_bulk

app.conf.task_always_eager = True
with access_context(actor=Actor(type="system", id="bench"), role="system", channel="command", purpose="registration"):
    record_bulk(action="cards.residents.lookup", subjects=[f"resident:{n}" for n in range(1000)])
"""


def _log(message: str) -> None:
    print(f"   {message}", file=sys.stderr, flush=True)


def run(rounds: int = 8, seconds: int = 3) -> list[dict]:
    """Start one gunicorn, load a tile and a same-sized static file in alternating slices; return the row."""
    base = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if not base.startswith(("postgres://", "postgresql://")) or not redis_url:
        raise RuntimeError("the tile benchmark needs DATABASE_URL=postgres://… and REDIS_URL=redis://…")
    static_name = f"bench-tile-{os.getpid()}.bin"
    static_file = ROOT / "staticfiles" / static_name
    with (
        throwaway_database(DATABASE) as url,
        Stack(database_url=url, redis_url=redis_url, web_workers=WEB_WORKERS) as stack,
    ):
        stack.migrate()
        stack.manage("collectstatic", "--noinput", "-v", "0")
        stack.manage("shell", "-c", GROW)
        tile = (stack.directory / "var" / "tiles" / "tile" / "0" / "000").read_bytes()
        static_file.write_bytes(tile)
        try:
            server = stack.start_web()
            urls = {"tile": server + TILE, "static": f"{server}/static/{static_name}"}
            for name, target in urls.items():
                status, headers, body = http("GET", target)
                if status != 200 or body != tile:
                    raise RuntimeError(f"{name}: {target} answered {status} with {len(body)} bytes")
                _wrk(target, seconds=2)
            rates = {name: [] for name in urls}
            for number in range(rounds):
                for name in ("tile", "static") if number % 2 == 0 else ("static", "tile"):
                    result = _wrk(urls[name], seconds=seconds)
                    if result["non_2xx"]:
                        raise RuntimeError(f"{name}: {result['non_2xx']} non-2xx answers under load")
                    rates[name].append(result["rps"])
                    rate, p99 = result["rps"], result["p99_ms"]
                    _log(f"round {number + 1}/{rounds} {name:<6} {rate:8.0f} req/s  p99 {p99:.1f} ms")
        finally:
            static_file.unlink(missing_ok=True)
    ratio = statistics.median(a / b for a, b in zip(rates["tile"], rates["static"], strict=True))
    tile_rate, static_rate = statistics.median(rates["tile"]), statistics.median(rates["static"])
    return [row("ledger.tiles.read_per_s", tile_rate, "req/s", round(static_rate, 1), round(ratio, 4))]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=3)
    arguments = parser.parse_args()
    for result in run(rounds=arguments.rounds, seconds=arguments.seconds):
        print(json.dumps(result))
