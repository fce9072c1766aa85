"""Benchmark only: OneCard plus one bare signed-in page at /bench/bare/ (bench/bare_page.py). Never deploy this."""

from portal.settings import *  # noqa: F403

ROOT_URLCONF = "bench.bare_page"
