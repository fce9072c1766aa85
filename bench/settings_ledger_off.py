"""Benchmark baseline only: OneCard with ledger recording turned off. Never deploy this.

It imports the real settings (so production mode, keys and services are as
configured) and then turns record() into a no-op, which portal.settings refuses
to do in production mode. bench/http_bench.py uses it to measure the cost of
recording on the same endpoint in the same run.
"""

from portal.settings import *  # noqa: F403

ONECARD_LEDGER_RECORDING = False
