"""Shared helpers for the benchmarks: manage.py, results rows and intervals, machine description."""

import contextlib
import os
import platform
import random
import statistics
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


def row(
    name: str,
    value: float,
    unit: str,
    baseline: float | None = None,
    ratio: float | None = None,
    interval: tuple[float, float] | None = None,
) -> dict:
    """Return one result row in the results.json shape; INTERVAL is the ratio's 95 % confidence interval."""
    result = {"name": name, "value": round(value, 4), "unit": unit, "baseline": baseline, "ratio": ratio}
    if interval is not None:
        result["interval"] = [round(interval[0], 4), round(interval[1], 4)]
    return result


def median_interval(
    samples: list[float], *, confidence: float = 0.95, resamples: int = 10_000, seed: int = 0
) -> tuple[float, float]:
    """Return a percentile-bootstrap confidence interval for the median of SAMPLES.

    The rounds of an interleaved run are the samples: resampling them with
    replacement shows how far the median could move with another set of rounds.
    Seeded, so one run's figures always give the same interval.
    """
    if len(samples) < 2:
        raise ValueError("a confidence interval needs at least two samples")
    generator = random.Random(seed)
    medians = sorted(statistics.median(generator.choices(samples, k=len(samples))) for _ in range(resamples))
    tail = (1 - confidence) / 2
    return medians[int(tail * resamples)], medians[min(resamples - 1, int((1 - tail) * resamples))]


def machine() -> dict:
    """Describe this machine for the results file."""
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    with contextlib.suppress(OSError):
        memory = Path("/proc/meminfo").read_text().splitlines()[0].split(":", 1)[1].strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": memory,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def manage(*args: str, database_url: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """Run manage.py with ARGS against DATABASE_URL; return the finished process."""
    environment = os.environ | {"DATABASE_URL": database_url} | (env or {})
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True, check=check
    )


def settle() -> None:
    """Flush what the previous suite wrote (a PostgreSQL CHECKPOINT), so its disk writes don't land in the next."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return
    import psycopg

    admin_url = urlunsplit(urlsplit(url)._replace(path="/postgres", scheme="postgresql"))
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute("CHECKPOINT")
