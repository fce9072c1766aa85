"""gunicorn settings for the web tier; every value can be overridden from the environment."""

import multiprocessing
import os
import re

from gunicorn.glogging import Logger

# Persistent database connections: a gunicorn worker holds one per thread, a fixed number.
# Settings default to none, for runserver, which starts a thread per request (docs/settings.md).
os.environ.setdefault("DATABASE_CONN_MAX_AGE", "60")

bind = os.environ.get("GUNICORN_BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("GUNICORN_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 9)))
# Synchronous workers, one request each, behind a reverse proxy that buffers slow
# clients (docs/operations.md). On a small machine they keep the tail short: with
# threads, the requests of one process queue on its interpreter lock and the
# unluckiest wait several times the median (docs/performance.md). GUNICORN_THREADS
# above 1 switches to gthread for a deployment without a buffering proxy.
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = "gthread" if threads > 1 else "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = 500
# An empty GUNICORN_ACCESSLOG turns the access log off (the benchmarks do, to measure OneCard, not logging).
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


# A password-reset link is a credential: the access log must not keep one, whether in the
# request line, the path or the Referer of the page it led to.
_RESET_LINK = re.compile(r"(/password-reset/)[^/?#\s]+/[^/?#\s]+/")


def reset_links_redacted(text: str) -> str:
    """Return TEXT with the user id and token of every password-reset link replaced."""
    return _RESET_LINK.sub(r"\1[redacted]/", text)


class RedactingLogger(Logger):
    """gunicorn's logger, with password-reset links taken out of every access log field."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: reset_links_redacted(value) if isinstance(value, str) else value for key, value in atoms.items()}


logger_class = RedactingLogger
