"""The project's error hierarchy: what a failure means for whoever retries it.

- `PermanentError`: the same input gives the same failure (configuration, data, a failed dbt
  test, a bad request from an engineer). Retrying wastes the writer slot; fix, then re-run.
- `TransientError`: the world may be different in a minute (I/O, a locked file, a source
  that does not answer). Retried with backoff.

Airflow maps these to its retry policy (dags/_common.py: PERMANENT fails at once, TRANSIENT is
retried with backoff); the `pcve` command prints them and exits with `exit_code(exc)` (EXIT_CODES,
shown in `pcve --help` and the README).
Subclass rather than raise the bases, so a message can say what to do. A subclass may add
a builtin base for callers that catch it (e.g. `class SourceUnavailable(TransientError,
OSError)`): these bases define no state of their own, so any such combination works.
"""

from __future__ import annotations

# Exit codes of `pcve`, from the class of what stopped it (sysexits.h where one fits). 4 and 5 are
# outcomes rather than errors (a file with errors, part of the work not done): the commands set them.
EXIT_OK, EXIT_PERMANENT, EXIT_USAGE, EXIT_LOCKED, EXIT_INVALID, EXIT_PARTIAL = 0, 1, 2, 3, 4, 5
EXIT_INTERNAL, EXIT_TRANSIENT, EXIT_CONFIG, EXIT_INTERRUPTED = 70, 75, 78, 130
EXIT_CODES = (
    (EXIT_OK, "done (rejected files are a normal, reported outcome)"),
    (EXIT_PERMANENT, "failed permanently (data, a failed dbt test, a wrong request): fix, then re-run"),
    (EXIT_USAGE, "usage error (an unknown option, office or period)"),
    (EXIT_LOCKED, "another run holds the home: wait for it"),
    (EXIT_INVALID, "`pcve validate` found errors in the file"),
    (EXIT_PARTIAL, "part of the work not done: nothing exported, or an office's source unreadable"),
    (EXIT_INTERNAL, "an unexpected error (a bug): re-run with -vv for the traceback"),
    (EXIT_TRANSIENT, "failed transiently (I/O, an unreachable source): run again later"),
    (EXIT_CONFIG, "the configuration is wrong (config/, PCVE_* settings): the message names the fix"),
    (EXIT_INTERRUPTED, "interrupted (Ctrl-C): the same command resumes where it stopped"),
)


class PcveError(Exception):
    """Base of every error pcve raises on purpose."""

    exit_code = EXIT_PERMANENT


class PermanentError(PcveError):
    """Retrying cannot help: configuration, data or build-test failures, a wrong request."""

    exit_code = EXIT_PERMANENT


class TransientError(PcveError):
    """Retrying later may help: I/O, a locked file or warehouse, an unreachable source."""

    exit_code = EXIT_TRANSIENT


class ConfigError(PermanentError, ValueError):
    """The configuration (or an engineer's parameter) is wrong; the message names the fix."""

    exit_code = EXIT_CONFIG


# What a retry can fix. Builtins count too: an OSError is I/O; a ValueError, KeyError or TypeError
# from the same input comes back the same. Permanent is checked first: a class may be both a
# PermanentError and an OSError (an unsafe path), and then it is permanent.
PERMANENT: tuple[type[BaseException], ...] = (PermanentError, ValueError, KeyError, TypeError)
TRANSIENT: tuple[type[BaseException], ...] = (TransientError, OSError)


def exit_code(exc: BaseException) -> int:
    """The exit code of `pcve` for what stopped it: its class's, else transient for an OSError,
    internal for anything else (a bug: no class of ours says what it means)."""
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(exc, PcveError):
        return exc.exit_code
    if isinstance(exc, OSError):
        return EXIT_TRANSIENT
    return EXIT_INTERNAL


def exit_codes_text() -> str:
    return "\n".join(f"{code:>3}  {what}" for code, what in EXIT_CODES)
