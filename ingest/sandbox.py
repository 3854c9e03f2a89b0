"""Reading and parsing received files in child processes held to limits.

Whatever a file does to the reader (a zip bomb that inflates past the address space, XML that
takes minutes, a crash inside calamine's native code), it happens in a child process:

- each child sets RLIMIT_AS to what it uses at start plus `Limits.memory_mb`, so an allocation
  past it fails there (MemoryError, or an abort in native code) instead of swapping the machine;
- the parent gives each file `Limits.seconds` of wall time, then kills the child;
- a child that dies or is killed is replaced and its file ends *rejected* with a located reason
  (`too_large`, `too_slow`, `internal_error` naming the stage): the other files go on.

Children are kept for the whole batch and are plain subprocesses of a clean interpreter (see
`_Popen` for why not multiprocessing's fork, fork server or spawn). A long-lived process (the
office portal) keeps `ReadyChildren` started ahead of its files: the same children under the
same limits, each used for one file only.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from multiprocessing.connection import wait
from pathlib import Path

from ingest.parse import FileParser, internal_error_file
from ingest.reader import Limits
from pcve.core import config
from pcve.core.config import load_config
from pcve.core.model import Issue, ParsedFile
from pcve.core.periods import period_from_filename
from pcve.core.privacy import mask

log = logging.getLogger("pcve.sandbox")

Job = tuple[str, str, str]  # (office, path of the archived copy, the name the office gave)


def _address_space() -> int | None:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        return None


def _limit_memory(memory_mb: int) -> None:
    try:
        import resource
    except ImportError:  # not POSIX: the wall-time limit still holds
        return
    base = _address_space()
    if base is None:
        return
    cap = base + memory_mb * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


def _child(conn, config_dir: str, limits: Limits, offices: tuple[str, ...] = ()) -> None:
    """A child's loop: one job in, one ParsedFile out, until told to stop (None) or killed.

    `offices`: parsers built (and the workbook reader imported) before the first job, under the
    memory limit like everything the child does: a child started ahead of its file (ReadyChildren)
    spends that time before the file arrives, not after."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when a child stops
    memory_mb = limits.memory_mb
    _limit_memory(memory_mb)
    parsers: dict[str, FileParser] = {}
    cfg = load_config(config_dir)
    if offices:
        try:
            import python_calamine  # noqa: F401 (imported on the first workbook otherwise)
        except ImportError:
            pass
        for office in offices:
            if office in cfg.offices:
                parsers[office] = FileParser(cfg, office, limits)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        office, path, name = job
        try:
            if office not in parsers:
                parsers[office] = FileParser(cfg, office, limits)
            pf = parsers[office].parse(Path(path), name)
        except MemoryError:
            pf = rejected(office, name, "too_large", f"more than {memory_mb} MB of memory")
        except Exception as exc:  # FileParser.parse catches what the file causes: this is ours
            pf = internal_error_file(office, name, "read", exc)
        try:
            conn.send(pf)
        except MemoryError:
            conn.send(rejected(office, name, "too_large", f"more than {memory_mb} MB of memory"))


def rejected(office: str, name: str, rule: str, detail: str) -> ParsedFile:

    name = mask(name)
    try:
        period = period_from_filename(name)
    except Exception:
        period = None
    pf = ParsedFile(office, name, period, "workbook")
    pf.issues.append(Issue("error", rule, params={"detail": detail}))
    return pf


class _Popen:
    """A child started as a plain subprocess (`python -m ingest.sandbox`, ~0.15 s to start): a clean
    interpreter whatever this process is. Not multiprocessing's: a forked child could reuse this
    process's freed heap without growing its address space (the memory limit would not hold), a
    fork server or spawn re-imports __main__ (an Airflow task's `airflow` script fails there), and
    a daemonic process (a Celery prefork task) may not have multiprocessing children at all."""

    def __init__(self, config_dir: str, limits: Limits, offices: tuple[str, ...] = ()):
        import pickle
        import subprocess
        import sys
        from multiprocessing.connection import Connection

        down_r, down_w = os.pipe()
        up_r, up_w = os.pipe()
        arg = pickle.dumps((config_dir, limits, tuple(offices))).hex()
        self._p = subprocess.Popen([sys.executable, "-m", "ingest.sandbox", str(down_r), str(up_w), arg],
                                   pass_fds=(down_r, up_w), close_fds=True)
        os.close(down_r)
        os.close(up_w)
        self.conn = _Duplex(Connection(up_r, writable=False), Connection(down_w, readable=False))

    @property
    def exitcode(self):
        return self._p.poll()

    def is_alive(self) -> bool:
        return self._p.poll() is None

    def kill(self) -> None:
        self._p.kill()

    def join(self, timeout: float | None = None) -> None:
        import subprocess

        try:
            self._p.wait(timeout)
        except subprocess.TimeoutExpired:
            pass


class _Duplex:
    """Two one-way connections as one: recv from the child, send to it; `wait` watches the first."""

    def __init__(self, up, down):
        self.up, self.down = up, down

    def fileno(self) -> int:
        return self.up.fileno()

    def recv(self):
        return self.up.recv()

    def send(self, obj) -> None:
        self.down.send(obj)

    def close(self) -> None:
        self.up.close()
        self.down.close()


class _Worker:
    def __init__(self, config_dir: str, limits: Limits, offices: tuple[str, ...] = ()):
        self.proc = _Popen(config_dir, limits, offices)
        self.conn = self.proc.conn
        self.job: tuple[int, Job] | None = None
        self.deadline = 0.0

    def give(self, n: int, job: Job, seconds: float) -> bool:
        try:
            self.conn.send(job)
        except (OSError, ValueError):
            return False
        self.job, self.deadline = (n, job), time.monotonic() + seconds
        return True

    def kill(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(5)
        self.conn.close()

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except (OSError, ValueError):
            pass
        self.proc.join(2)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(2)
        self.conn.close()


class ReadyChildren:
    """Children started before the files they will read, for a long-lived process (the portal).

    Each is an ordinary `_Worker` (the same interpreter, config, limits and deadline as intake's),
    so a check does not wait for an interpreter to start and import the reader. Each child reads
    ONE file and is then told to stop: a file never meets what an earlier upload left in it (heap
    grown towards the memory limit, a half-read workbook). `refill` starts the replacements, which
    the caller does after answering, so their start is not on the next check's path when `size`
    children are kept. A child that died while waiting is replaced, never given a file.
    """

    def __init__(self, config_dir: str, limits: Limits, size: int = 2, offices: tuple[str, ...] = ()):
        self.config_dir, self.limits, self.size, self.offices = str(config_dir), limits, max(1, size), tuple(offices)
        self._lock = threading.Lock()
        self._ready: deque[_Worker] = deque()
        self._retired: list[_Worker] = []
        self.refill()

    def _new(self) -> _Worker:
        return _Worker(self.config_dir, self.limits, self.offices)

    def refill(self) -> None:
        with self._lock:
            self._reap()
            for w in [w for w in self._ready if not w.proc.is_alive()]:  # died waiting: never given a file
                self._ready.remove(w)
                w.kill()
            while len(self._ready) < self.size:
                self._ready.append(self._new())

    def take(self, config_dir: str, limits: Limits) -> _Worker:
        """A started child for one file; a fresh one if none is ready or the config or limits differ."""
        with self._lock:
            if str(config_dir) == self.config_dir and limits == self.limits:
                while self._ready:
                    w = self._ready.popleft()
                    if w.proc.is_alive():
                        return w
                    w.kill()
        return _Worker(str(config_dir), limits)

    def retire(self, w: _Worker) -> None:
        """Tell a used child to stop without waiting for it (reaped on the next refill or close)."""
        try:
            w.conn.send(None)
        except (OSError, ValueError):
            w.kill()
            return
        with self._lock:
            self._retired.append(w)

    def _reap(self) -> None:
        keep = []
        for w in self._retired:
            if w.proc.is_alive():
                keep.append(w)
            else:
                w.proc.join(0)
                w.conn.close()
        self._retired = keep

    def close(self) -> None:
        with self._lock:
            for w in self._ready:
                w.stop()
            for w in self._retired:
                w.proc.join(2)
                w.kill()
            self._ready.clear()
            self._retired = []


def parse_sandboxed(jobs: Iterable[Job], limits: Limits, workers: int = 1, config_dir: str | None = None,
                    ready: ReadyChildren | None = None) -> Iterator[ParsedFile]:
    """ParsedFiles in the jobs' order, each read and parsed in a child process under `limits`.

    `ready`: children started ahead (a long-lived process): taken from there instead of started,
    and retired after this batch (each is used for one batch only)."""

    config_dir = str(config_dir or config.CONFIG_DIR)
    jobs = list(jobs)
    if not jobs:
        return
    pending = deque(enumerate(jobs))
    done: dict[int, ParsedFile] = {}
    n_workers = max(1, min(workers, len(jobs)))
    pool = [ready.take(config_dir, limits) if ready else _Worker(config_dir, limits) for _ in range(n_workers)]
    next_out = 0
    try:
        while next_out < len(jobs):
            for i, w in enumerate(pool):
                if w.job is None and pending:
                    n, job = pending.popleft()
                    if not w.give(n, job, limits.seconds):  # a child that died idle: replaced
                        w.kill()
                        pool[i] = w = _Worker(config_dir, limits)
                        w.give(n, job, limits.seconds)
            busy = [w for w in pool if w.job is not None]
            timeout = max(0.0, min(w.deadline for w in busy) - time.monotonic()) if busy else 0.0
            answered = set(wait([w.conn for w in busy], timeout=timeout)) if busy else set()
            for i, w in enumerate(pool):
                if w.job is None:
                    continue
                n, (office, _, name) = w.job
                if w.conn in answered:
                    try:
                        done[n] = w.conn.recv()
                        w.job = None
                        continue
                    except (EOFError, OSError):  # died mid-file: a bomb past the memory limit, a crash
                        w.proc.join(5)
                        code = w.proc.exitcode
                        log.warning("reader process died on %r (exit %s)", mask(name), code)
                        # out of memory: Rust aborts (SIGABRT), the kernel kills (SIGKILL); else ours
                        done[n] = (rejected(office, name, "too_large",
                                            f"more than {limits.memory_mb} MB of memory")
                                   if code in (-signal.SIGKILL, -signal.SIGABRT)
                                   else internal_error_file(office, name, "read", detail=f"exit {code}"))
                elif time.monotonic() >= w.deadline:
                    log.warning("reading %r took more than %ss: stopped", mask(name), limits.seconds)
                    done[n] = rejected(office, name, "too_slow", f"{limits.seconds:g} s")
                else:
                    continue
                w.kill()
                pool[i] = _Worker(config_dir, limits)
            while next_out in done:
                yield done.pop(next_out)
                next_out += 1
    finally:
        for w in pool:
            if w.job is not None:
                w.kill()
            elif ready is not None:
                ready.retire(w)
            else:
                w.stop()


if __name__ == "__main__":  # a _Popen child: python -m ingest.sandbox <read fd> <write fd> <args>
    import pickle
    import sys
    from multiprocessing.connection import Connection

    _config_dir, _limits, _offices = pickle.loads(bytes.fromhex(sys.argv[3]))
    _child(_Duplex(Connection(int(sys.argv[1]), writable=False), Connection(int(sys.argv[2]), readable=False)),
           _config_dir, _limits, _offices)
