"""The locked pair celery 5.7 / apache-airflow-providers-celery 3.26 does not import: the provider
takes `retry` from celery.backends.database, which celery 5.7 removed (its DatabaseBackend now
retries by itself). `make airflow-scale` loads this through an airflow_local_settings module
before any executor is imported; it restores `retry` as celery 5.6 had it (up to 3 attempts on
a lost or stale database session). A no-op once the lock pairs versions that agree.
"""

from __future__ import annotations

import functools
import logging

log = logging.getLogger("pcve.celery_compat")

MAX_RETRIES = 3


def patch() -> bool:
    """Give celery.backends.database its `retry` back if missing. True when patched."""
    try:
        import celery.backends.database as database
    except ImportError:  # no celery: nothing uses the provider
        return False
    if hasattr(database, "retry"):
        return False
    from sqlalchemy.exc import DatabaseError, InvalidRequestError
    from sqlalchemy.orm.exc import StaleDataError

    def retry(fun):
        @functools.wraps(fun)
        def _inner(*args, **kwargs):
            max_retries = kwargs.pop("max_retries", MAX_RETRIES)
            for attempt in range(max_retries):
                try:
                    return fun(*args, **kwargs)
                except (DatabaseError, InvalidRequestError, StaleDataError):
                    log.warning("failed operation %s, retrying (%d/%d)", fun.__name__, attempt + 1, max_retries,
                                exc_info=True)
                    if attempt + 1 >= max_retries:
                        raise
            return None

        return _inner

    database.retry = retry
    return True
