"""Run every benchmark, print a table and write bench/results.json.

Usage: python -m bench [name ...]   (names: the modules listed in SUITES)
Targets come from the issues; a row whose ratio or value misses its target is
marked MISS in the table, but the run still completes so every figure is seen.
"""

import importlib
import json
import sys
import time
import traceback

from bench.common import ROOT, machine, settle

# The HTTP suite goes first: it is the most sensitive to the disk writes and page cache the
# bulk suites leave behind, and its ratios compare variants that all run under it.
SUITES = [
    "http_bench",
    "tiles_bench",
    "import_bench",
    "ledger_bench",
    "cards_bench",
    "services_bench",
    "matching_bench",
    "matching_http_bench",
    "statistics_bench",
]

# name: (comparison, target) — ">=" or "<=" on the ratio when a baseline exists, else on the value.
TARGETS = {
    "api.cards_verify.ledger_on_vs_off": (">=", 0.80),
    "api.cards_verify.vs_easy_audit": (">=", 0.97),
    "ledger.sequencer.entries_per_s": (">=", 20_000),
    "ledger.checkpoint_lag.p99_s": ("<=", 1.0),
    "ledger.verify.vs_raw_scan": (">=", 0.75),
    "ledger.inclusion_proof.p50_ms_at_1m": ("<=", 5.0),
    "ledger.record.p50_ms": ("<=", 1.0),
    "cards.offline_verify.vs_raw_ed25519": (">=", 0.8),
    "import_citizens.rows_per_s": (">=", 2_000),
    "portal.dashboard.vs_bare_page": (">=", 0.5),
    "social_security.batch_10k.seconds": ("<=", 10.0),
}


def verdict(result: dict) -> str:
    rule = TARGETS.get(result["name"])
    if rule is None:
        return ""
    comparison, target = rule
    measured = result["ratio"] if result.get("ratio") is not None else result["value"]
    met = measured >= target if comparison == ">=" else measured <= target
    return f"{'ok' if met else 'MISS'} ({comparison} {target:g})"


def main(names: list[str]) -> int:
    rows, failures = [], []
    for name in names or SUITES:
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as error:
            if error.name == f"bench.{name}":
                print(f"-- {name}: not present, skipped", file=sys.stderr)
                continue
            raise
        print(f"-- {name} ...", file=sys.stderr, flush=True)
        settle()
        started = time.perf_counter()
        try:
            rows.extend(module.run())
        except Exception:
            failures.append(name)
            traceback.print_exc()
        print(f"-- {name}: {time.perf_counter() - started:.0f} s", file=sys.stderr)
    (ROOT / "bench" / "results.json").write_text(json.dumps({"machine": machine(), "rows": rows}, indent=2) + "\n")
    width = max([len(r["name"]) for r in rows] + [4])
    print(f"{'name':<{width}}  {'value':>14}  {'unit':<10}  {'baseline':>12}  {'ratio':>7}  target")
    for r in rows:
        baseline = "" if r.get("baseline") is None else f"{r['baseline']:.4g}"
        ratio = "" if r.get("ratio") is None else f"{r['ratio']:.3f}"
        interval = f"  95% CI {r['interval'][0]:.3f} to {r['interval'][1]:.3f}" if r.get("interval") else ""
        print(
            f"{r['name']:<{width}}  {r['value']:>14.4g}  {r['unit']:<10}  {baseline:>12}  {ratio:>7}  {verdict(r)}"
            f"{interval}"
        )
    print(f"wrote {ROOT / 'bench' / 'results.json'}")
    if failures:
        print(f"failed: {', '.join(failures)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
