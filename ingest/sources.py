"""Where offices drop their files: a local folder by default, or an SFTP /
object-store location by configuration alone (fsspec URLs: sftp://, s3://).

Credentials never come from the repository nor from the location string (a password in a URL
would ride in XCom and logs). Per office, from the Airflow connection `pcve_source_<office>`
(another id: env PCVE_SOURCE_<OFFICE>_CONN_ID; inside a task through Airflow's secrets backends,
elsewhere from the env form AIRFLOW_CONN_<ID>, JSON or URI), else from the environment:

- sftp://user@host[:port]/path: PCVE_SFTP_KEY_FILE (private key), PCVE_SFTP_PASSWORD (or the key's
  passphrase), PCVE_SFTP_KNOWN_HOSTS (an OpenSSH known_hosts file: the server's key must be in it;
  unset, any host key is accepted and a warning is logged). Connection: login, password, host,
  port, extra {"key_file", "private_key" (PEM text), "known_hosts"}.
- s3://bucket/prefix: botocore's own AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION,
  AWS_ENDPOINT_URL (an S3-compatible server) or PCVE_S3_ENDPOINT_URL. Connection (type aws):
  login = access key id, password = secret, extra {"endpoint_url", "region_name"}.

PCVE_SOURCE_TIMEOUT (seconds, 20) bounds connecting to a remote source. An unreachable source
raises SourceUnavailable (transient: Airflow retries the office's task; `pcve run` reports it and
goes on with the other offices); refused credentials or a wrong host key raise SourceRefused.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import threading
from datetime import datetime
from pathlib import Path

from pcve.core.errors import PcveError, PermanentError, TransientError  # Airflow's retry policy reads these
from pcve.core.periods import ALMATY_TZ
from pcve.core.safe_io import UnsafePath, atomic_copy, atomic_write, check_folder
from pcve.core.settings import settings

log = logging.getLogger("pcve.sources")

REPORTS_DIR = "_reports"
LOCAL_PROTOCOLS = ("file", "local")


class SourceError(PcveError, RuntimeError):
    """An office's source could not be read or written (the office's files are left as they are)."""


class SourceUnavailable(SourceError, TransientError):
    """The source did not answer (network, server down, timeout): transient, try again later."""


class SourceRefused(SourceError, PermanentError):
    """The source answered but refused us (credentials, host key, permissions): fix the
    connection settings; retrying does not help."""


def redact(location: str) -> str:
    """A location fit for a message: any user:password@ reduced to user@."""
    return re.sub(r"(://[^/@:]*):[^/@]*@", r"\1:***@", location)


def protocol_of(location: str) -> str:
    return location.split("://", 1)[0].lower() if "://" in location else "file"


def is_remote(location: str) -> bool:
    return protocol_of(location) not in ("file", "local", "memory")


# ---------------------------------------------------------------- credentials
def _conn_id(office: str | None) -> str | None:
    if not office:
        return None
    return settings().source_conn_id(office)


def _connection(office: str | None) -> dict | None:
    """The office's Airflow connection as a dict (login, password, host, port, extra), or None."""
    conn_id = _conn_id(office)
    if not conn_id:
        return None
    if os.getenv("AIRFLOW_CTX_DAG_ID"):  # inside an Airflow task: its secrets backends and metadata DB
        try:
            from airflow.sdk import BaseHook

            c = BaseHook.get_connection(conn_id)
            return {"login": c.login, "password": c.password, "host": c.host, "port": c.port,
                    "extra": c.extra_dejson or {}}
        except ImportError:
            pass
        except Exception as exc:  # not defined there: the environment may still hold it
            if type(exc).__name__ not in ("AirflowNotFoundException", "AirflowNotFound"):
                log.debug("connection %s not read from Airflow: %s", conn_id, type(exc).__name__)
    raw = os.getenv(f"AIRFLOW_CONN_{conn_id.upper()}")
    if not raw:
        return None
    return _parse_connection(raw)


def _parse_connection(raw: str) -> dict:
    """An Airflow connection in its env form: JSON or URI (aws://KEY:SECRET@/?endpoint_url=...)."""
    from urllib.parse import parse_qsl, unquote, urlsplit

    raw = raw.strip()
    if raw.startswith("{"):
        d = json.loads(raw)
        extra = d.get("extra") or {}
        if isinstance(extra, str):
            extra = json.loads(extra) if extra.strip() else {}
        return {"login": d.get("login"), "password": d.get("password"), "host": d.get("host"),
                "port": d.get("port"), "extra": extra}
    u = urlsplit(raw)
    return {"login": unquote(u.username) if u.username else None,
            "password": unquote(u.password) if u.password else None,
            "host": u.hostname, "port": u.port, "extra": dict(parse_qsl(u.query))}


def _timeout() -> float:
    return settings().source_timeout


def _known_hosts_policy(path: str):
    """paramiko's missing-host-key policy that accepts only the key a known_hosts file names
    (paramiko's client loads no known_hosts of its own here, so every key comes through it)."""
    import paramiko

    keys = paramiko.HostKeys(os.path.expanduser(path))

    class KnownHostsPolicy(paramiko.MissingHostKeyPolicy):
        def missing_host_key(self, client, hostname, key):
            known = keys.lookup(hostname)
            if known is None or known.get(key.get_name()) != key:
                raise SourceRefused(f"the host key of {hostname} is not the one in {path}: "
                                    "check the server, then its line in the known_hosts file")

    return KnownHostsPolicy()


def storage_options(location: str, office: str | None = None) -> dict:
    """fsspec options for an office's location: credentials and timeouts (see the module doc)."""
    proto = protocol_of(location)
    conn = _connection(office) or {}
    extra = conn.get("extra") or {}
    if proto in ("sftp", "ssh"):
        opts: dict = {"timeout": _timeout(), "banner_timeout": _timeout(), "auth_timeout": _timeout()}
        if conn.get("login"):
            opts["username"] = conn["login"]
        if conn.get("port"):
            opts["port"] = int(conn["port"])
        key_file = extra.get("key_file") or settings().sftp_key_file
        password = conn.get("password") or settings().sftp_password
        if extra.get("private_key"):
            import io

            import paramiko

            opts["pkey"] = paramiko.PKey.from_private_key(io.StringIO(extra["private_key"]), password)
        elif key_file:
            opts["key_filename"] = os.path.expanduser(key_file)
            if password:
                opts["passphrase"] = password
        elif password:
            opts["password"] = password
        # only what we were given: never the keys or agent of whoever runs the pipeline
        opts["look_for_keys"] = False
        opts["allow_agent"] = False
        known = extra.get("known_hosts") or settings().sftp_known_hosts
        if known:
            opts["host_key_policy"] = _known_hosts_policy(known)
        else:
            log.warning("%s: no known_hosts (PCVE_SFTP_KNOWN_HOSTS): the server's key is not checked",
                        redact(location))
        return opts
    if proto in ("s3", "s3a"):
        opts = {"config_kwargs": {"connect_timeout": _timeout(), "read_timeout": 60,
                                  "retries": {"max_attempts": 2}}}
        if conn.get("login"):
            opts["key"] = conn["login"]
            opts["secret"] = conn.get("password")
        endpoint = extra.get("endpoint_url") or settings().s3_endpoint_url
        if endpoint:
            opts["endpoint_url"] = endpoint
        region = extra.get("region_name")
        if region:
            opts["client_kwargs"] = {"region_name": region}
        return opts
    return {}


# ---------------------------------------------------------------- file systems
_cache: dict[tuple, object] = {}
_cache_lock = threading.Lock()


def filesystem(location: str, office: str | None = None):
    """(fsspec file system, root path) of a location. Remote ones are kept open for the process
    and dropped after a failure (the next call connects anew)."""
    import fsspec

    if not is_remote(location):
        fs, root = fsspec.core.url_to_fs(location)
        return fs, root.rstrip("/")
    key = _cache_key(location, office)
    with _cache_lock:
        hit = _cache.get(key)
    if hit is not None:
        return hit
    try:
        fs, root = fsspec.core.url_to_fs(location, skip_instance_cache=True, **storage_options(location, office))
    except Exception as exc:
        err = _translate(exc, location, "connect to")
        if err is exc:
            raise
        raise err from exc
    with _cache_lock:
        _cache[key] = (fs, root.rstrip("/"))
    return fs, root.rstrip("/")


_AWS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL")


def _cache_key(location: str, office: str | None) -> tuple:
    # changed settings (a rotated key, another endpoint) get a new connection, not the old one
    conn_id = _conn_id(office)
    conn_env = os.getenv(f"AIRFLOW_CONN_{conn_id.upper()}") if conn_id else None
    s = settings()
    mine = [s.sftp_key_file, s.sftp_password, s.sftp_known_hosts, s.s3_endpoint_url, s.source_timeout]
    digest = hashlib.sha256(json.dumps([conn_env, mine, [os.getenv(v) for v in _AWS]]).encode()).hexdigest()
    return location, office, digest


def forget(location: str, office: str | None = None) -> None:
    with _cache_lock:
        hit = _cache.pop(_cache_key(location, office), None)
    if hit is not None:
        _close(hit[0])


def close_all() -> None:
    """Close every remote connection this process holds (they reopen on the next call)."""
    with _cache_lock:
        held = list(_cache.values())
        _cache.clear()
    for fs, _ in held:
        _close(fs)


def _close(fs) -> None:
    client = getattr(fs, "client", None)  # SFTP: the SSH connection
    if client is not None and hasattr(client, "close"):
        try:
            client.close()
        except Exception:  # already gone: nothing to release
            pass


_REFUSED = {"AuthenticationException", "BadAuthenticationType", "PasswordRequiredException", "BadHostKeyException",
            "NoCredentialsError", "PartialCredentialsError", "InvalidAccessKeyId", "SignatureDoesNotMatch",
            "AccessDenied", "InvalidClientTokenId", "InvalidHostKey"}
_NETWORK_LIBS = ("paramiko", "botocore", "aiobotocore", "aiohttp", "s3fs", "urllib3", "ssl")


def _translate(exc: BaseException, location: str, doing: str) -> BaseException:
    """A remote failure as SourceUnavailable (transient) or SourceRefused (settings); anything
    else (a bug, not the source's fault) is returned as it is."""
    if isinstance(exc, SourceError):
        return exc
    name = type(exc).__name__
    where = redact(location)
    # a missing key or known_hosts file while connecting is a setting, not the network
    if isinstance(exc, PermissionError) or name in _REFUSED or (isinstance(exc, FileNotFoundError)
                                                                and doing == "connect to"):
        return SourceRefused(f"could not {doing} {where}: {name}: {exc}; check the office's credentials "
                             "(see README: remote sources)")
    from_network_lib = any(type(exc).__module__.split(".")[0] == m for m in _NETWORK_LIBS)
    if isinstance(exc, OSError | EOFError | TimeoutError) or from_network_lib:
        return SourceUnavailable(f"could not {doing} {where}: {name}: {exc}; the source is unreachable, "
                                 "try again later")
    return exc


def _remote_call(location: str, office: str | None, doing: str, fn):
    """fn(fs, root) on the location; a remote failure becomes a SourceError and drops the connection."""
    fs, root = filesystem(location, office)
    if not is_remote(location):
        return fn(fs, root)
    try:
        return fn(fs, root)
    except FileNotFoundError:
        raise
    except Exception as exc:
        forget(location, office)
        err = _translate(exc, location, doing)
        if err is exc:
            raise
        raise err from exc


def _is_candidate(name: str) -> bool:
    # Excel's lock files (~$x.xlsx) and hidden files are never submissions.
    return not (name.startswith(".") or name.startswith("~$") or name == REPORTS_DIR)


def list_files(location: str, office: str | None = None) -> list[dict]:
    """Files directly in the source folder: name, modification time, size."""

    def ls(fs, root):
        fs.invalidate_cache(root)  # s3fs keeps listings: another run may have added files since
        if not fs.exists(root):
            return []
        return fs.ls(root, detail=True)

    out = []
    for info in _remote_call(location, office, "list", ls):
        name = info["name"].rstrip("/").rsplit("/", 1)[-1]
        if info.get("type") != "file" or not _is_candidate(name):
            continue
        mtime = info.get("mtime") or info.get("LastModified") or info.get("last_modified") or info.get("created")
        if isinstance(mtime, datetime):
            ts = mtime.timestamp()
        else:
            ts = float(mtime or 0)
        out.append({"name": name, "path": info["name"], "mtime": ts, "size": int(info.get("size") or 0)})
    return out


def received_at(mtime: float) -> str:
    """The file's arrival in the source, Asia/Almaty, ISO seconds (no offset)."""
    return datetime.fromtimestamp(mtime, ALMATY_TZ).replace(tzinfo=None, microsecond=0).isoformat()


def fetch(location: str, path: str, dest_dir: Path, office: str | None = None) -> tuple[Path, str]:
    """Copy one source file into dest_dir under a temp name; return (path, sha256)."""
    dest_dir.mkdir(parents=True, exist_ok=True)

    def copy(fs, _root):
        h = hashlib.sha256()
        fd, tmp = tempfile.mkstemp(dir=dest_dir, prefix=".fetch-")
        try:
            with os.fdopen(fd, "wb") as out, fs.open(path, "rb") as src:
                while chunk := src.read(1 << 20):
                    h.update(chunk)
                    out.write(chunk)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)  # a transfer cut short leaves nothing half-copied
            raise
        return Path(tmp), h.hexdigest()

    return _remote_call(location, office, "fetch a file from", copy)


def archive_file(tmp: Path, sha256: str, archive_dir: Path, sync: bool = True) -> Path:
    """Move a fetched file into the archive under its sha256 (idempotent, atomic).
    sync=False leaves the flush to the caller (sync_archive once for a batch)."""
    dest = archive_dir / sha256[:2] / sha256
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists():
        tmp.unlink(missing_ok=True)
    else:
        if sync:
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, dest)
    return dest


def sync_archive(archive_dir: Path, files: list[Path]) -> None:
    """Make archived files durable before the ledger names them: one syncfs(2) of the archive's file
    system for a batch (an fsync per file costs ~2 ms each), else an fsync per file and folder."""
    if not files:
        return
    if len(files) > 4 and _syncfs(archive_dir):
        return
    for f in files:
        with open(f, "rb") as fh:
            os.fsync(fh.fileno())
    for folder in {f.parent for f in files}:
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)  # the rename into it
        finally:
            os.close(fd)


def _syncfs(path: Path) -> bool:
    try:
        import ctypes
        import ctypes.util

        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = libc.syncfs
    except (OSError, AttributeError):  # not Linux: no syncfs
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        return fn(fd) == 0
    finally:
        os.close(fd)


NAME_MAX_BYTES = 160  # a name kept locally, before the suffixes the pipeline adds (.errors.html, ~2)


def safe_name(name: str, max_bytes: int = NAME_MAX_BYTES) -> str:
    """A file name safe to create locally: no separators, no '..', no control or shell characters, no
    right-to-left override (which would show `x\u202excod.exe` as `xexe.docx` in a folder listing),
    and short enough in bytes for any file system with the suffixes the pipeline adds (a longer
    name keeps its extension and gets a short hash of the whole name, so two stay distinct)."""
    original = name
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[\x00-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]", "", name)  # controls, bidi overrides
    name = re.sub(r"[<>:\"|?*`$;&!'(){}\[\]]", "_", name).strip(" .")
    name = name or "unnamed"
    if len(name.encode("utf-8")) > max_bytes:
        stem, ext = os.path.splitext(name)
        ext = ext if len(ext.encode("utf-8")) <= 16 else ""
        tag = "~" + hashlib.sha256(original.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        room = max_bytes - len(ext.encode("utf-8")) - len(tag)
        stem = stem.encode("utf-8")[:room].decode("utf-8", "ignore").rstrip(" .")
        name = f"{stem}{tag}{ext}"
    return name


class ReportsRefused(PermanentError, OSError):
    """The office's _reports is a symlink or not a folder: nothing is written through it."""


def write_back(location: str, name: str, data: bytes, office: str | None = None) -> str:
    """Write a report beside the office's files, under _reports/ (atomic where the fs allows).
    Locally, a `_reports` that is a symlink or a file is refused (ReportsRefused): a report is
    never written outside the office's folder."""

    def write(fs, root):
        target_dir = f"{root}/{REPORTS_DIR}"
        target = f"{target_dir}/{safe_name(name)}"
        if _is_local(fs):

            folder = Path(target_dir)
            try:
                check_folder(folder)
                folder.mkdir(parents=True, exist_ok=True)
                check_folder(folder)  # raced into a symlink between the two
                atomic_write(Path(target), data)
            except UnsafePath as exc:
                raise ReportsRefused(str(exc)) from None
        else:
            if protocol_of(location) not in ("s3", "s3a"):  # object stores have no folders to make
                fs.makedirs(target_dir, exist_ok=True)
            with fs.open(target, "wb") as fh:
                fh.write(data)
        return target

    return _remote_call(location, office, "write a report to", write)


def _is_local(fs) -> bool:
    protocols = fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)
    return any(p in LOCAL_PROTOCOLS for p in protocols)


def copy_local(src: Path, dest: Path) -> None:

    atomic_copy(src, dest)
