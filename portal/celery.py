"""The Celery application: eager without REDIS_URL, real workers on Redis with it."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("onecard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def connections_checked(**kwargs) -> None:
    """Drop broken or expired database connections around each task, as Django does around each request.

    CELERY_DB_REUSE_MAX stops Celery from closing the connection after every
    task; this keeps CONN_MAX_AGE and CONN_HEALTH_CHECKS in charge instead, so
    a worker still reconnects after PostgreSQL restarts.
    """
    if getattr(kwargs.get("task"), "request", None) is not None and kwargs["task"].request.is_eager:
        return
    from django.db import close_old_connections

    close_old_connections()
