"""Benchmark baseline only: OneCard's ledger swapped for django-easy-audit's request logging.

django-easy-audit is installed for the benchmark only (the Makefile's bench
target), never in requirements.txt. Only its request events are on, the part
comparable to recording each access; its model and login events would add
cost that OneCard does not have.
"""

from portal.settings import *  # noqa: F403
from portal.settings import INSTALLED_APPS, MIDDLEWARE

ONECARD_LEDGER_RECORDING = False
INSTALLED_APPS = [*INSTALLED_APPS, "easyaudit"]
MIDDLEWARE = [*MIDDLEWARE, "easyaudit.middleware.easyaudit.EasyAuditMiddleware"]
DJANGO_EASY_AUDIT_WATCH_REQUEST_EVENTS = True
DJANGO_EASY_AUDIT_WATCH_MODEL_EVENTS = False
DJANGO_EASY_AUDIT_WATCH_AUTH_EVENTS = False
