"""The project's error hierarchy: what a failure means for whoever retries it.

- `PermanentError`: the same input gives the same failure (configuration, data, a failed dbt
  test, a bad request from an engineer). Retrying wastes the writer slot; fix, then re-run.
- `TransientError`: the world may be different in a minute (I/O, a locked file, a source
  that does not answer). Retried with backoff.

Airflow maps these to its retry policy (dags/_common.py); the `pcve` command prints them.
Subclass rather than raise the bases, so a message can say what to do. A subclass may add
a builtin base for callers that catch it (e.g. `class SourceUnavailable(TransientError,
OSError)`): these bases define no state of their own, so any such combination works.
"""

from __future__ import annotations


class PcveError(Exception):
    """Base of every error pcve raises on purpose."""


class PermanentError(PcveError):
    """Retrying cannot help: configuration, data or build-test failures, a wrong request."""


class TransientError(PcveError):
    """Retrying later may help: I/O, a locked file or warehouse, an unreachable source."""


class ConfigError(PermanentError, ValueError):
    """The configuration (or an engineer's parameter) is wrong; the message names the fix."""

