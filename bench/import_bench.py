"""Import rate of `manage.py import_citizens` for a 100,000-row CSV."""

import csv
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, manage, row
from tests.support.stack import throwaway_database

ROWS = 100_000
COUNTIES = ["110105", "310101", "110101", "110102", "310104", "310105", "120101", "110106"]
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _national_ids(count: int):
    produced = 0
    for year in range(1950, 2000):
        for month in range(1, 13):
            for day in range(1, 29):
                for county in COUNTIES:
                    for sequence in range(1, 1000, 97):
                        first17 = f"{county}{year}{month:02d}{day:02d}{sequence:03d}"
                        total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
                        yield first17 + "10X98765432"[total % 11]
                        produced += 1
                        if produced >= count:
                            return


def write_csv(path: Path, count: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["national_id", "full_name", "phone", "email"])
        for index, number in enumerate(_national_ids(count)):
            writer.writerow([number, f"居民 {index}", f"138{index:08d}", f"r{index}@example.org"])


def run(rows: int = ROWS) -> list[dict]:
    with tempfile.TemporaryDirectory() as directory, throwaway_database("onecard_bench_import") as url:
        path = Path(directory) / "residents.csv"
        write_csv(path, rows)
        manage("migrate", "--noinput", database_url=url)
        started = time.perf_counter()
        result = manage("import_citizens", str(path), database_url=url, check=False)
        elapsed = time.perf_counter() - started
        if result.returncode != 0:
            raise RuntimeError(f"import failed: {result.stderr[-2000:]}")
    print(f"imported {rows} rows in {elapsed:.1f} s", file=sys.stderr)
    return [
        row("import_citizens.rows_per_s", rows / elapsed, "rows/s"),
        row("import_citizens.seconds_100k", elapsed * ROWS / rows, "s"),
    ]


if __name__ == "__main__":
    import json

    sys.path.insert(0, str(ROOT))
    for result in run(int(sys.argv[1]) if len(sys.argv) > 1 else ROWS):
        print(json.dumps(result))
