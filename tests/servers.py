"""Real servers on loopback for the remote-source tests: Debian's OpenSSH sshd (SFTP) and moto's
S3 server. Each runs as an ordinary process (sshd: its own config, host key, pid file and port;
never the system service) and is stopped by its own pid.

Ports: PCVE_TEST_SSHD_PORT (18022) and PCVE_TEST_S3_PORT (18050); a taken port moves to the next
free one.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SSHD = "/usr/sbin/sshd"
SFTP_USER_AS_ROOT = "nobody"  # an unprivileged account with no shell: internal-sftp needs none


def free_port(start: int, span: int = 50) -> int:
    for port in range(start, start + span):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {start}..{start + span - 1}")


def wait_for_port(port: int, proc: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log.read_text(errors='replace')[-2000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def stop(proc: subprocess.Popen, grace: float = 10) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


@dataclass
class Sshd:
    port: int
    user: str
    key_file: Path  # the client's private key (what PCVE_SFTP_KEY_FILE names)
    known_hosts: Path  # the server's host key, as an OpenSSH known_hosts line
    root: Path  # the local folder the SFTP session sees as "/"
    chrooted: bool
    uid: int
    proc: subprocess.Popen
    base: Path

    def url(self, folder: str) -> str:
        # chrooted: "/" is the jail; otherwise the session sees the real file system
        path = f"/{folder}" if self.chrooted else f"{self.root}/{folder}"
        return f"sftp://{self.user}@127.0.0.1:{self.port}{path}"

    def office_folder(self, folder: str) -> Path:
        """A folder the SFTP user owns (the office's drop folder)."""
        d = self.root / folder
        d.mkdir(parents=True, exist_ok=True)
        os.chown(d, self.uid, -1)
        return d

    def stop(self) -> None:
        stop(self.proc)
        if self.chrooted:
            shutil.rmtree(self.root, ignore_errors=True)
        shutil.rmtree(self.base, ignore_errors=True)


def start_sshd(port: int | None = None) -> Sshd:
    """A private sshd: key authentication only, SFTP only (internal-sftp, no shell, no forwarding).
    As root the session is chrooted into a root-owned folder (sshd requires every component of the
    jail's path to be root-owned and not writable by others, so not under /tmp) and logs in as
    `nobody`; otherwise it serves the current user, confined to SFTP."""
    import pwd

    if not os.path.exists(SSHD):
        raise RuntimeError(f"{SSHD} missing: run `make system-deps` (Debian's openssh-server)")
    port = free_port(port or int(os.getenv("PCVE_TEST_SSHD_PORT", "18022")))
    base = Path(tempfile.mkdtemp(prefix="pcve-sshd-"))
    as_root = os.geteuid() == 0
    if as_root:
        user = SFTP_USER_AS_ROOT
        Path("/srv").mkdir(mode=0o755, exist_ok=True)
        root = Path(tempfile.mkdtemp(prefix="pcve-sftp-", dir="/srv"))
        os.chmod(root, 0o755)
        Path("/run/sshd").mkdir(mode=0o755, parents=True, exist_ok=True)  # sshd's privilege separation
    else:
        user = pwd.getpwuid(os.getuid()).pw_name
        root = base / "files"
        root.mkdir()
    uid = pwd.getpwnam(user).pw_uid
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(base / "host_key")], check=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(base / "client_key")], check=True)
    (base / "authorized_keys").write_text((base / "client_key.pub").read_text())
    # sshd reads the authorized keys as the logged-in user
    os.chmod(base, 0o755)
    os.chmod(base / "authorized_keys", 0o644)
    host_pub = (base / "host_key.pub").read_text().split()
    (base / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_pub[0]} {host_pub[1]}\n")
    config = [
        f"Port {port}", "ListenAddress 127.0.0.1", f"HostKey {base / 'host_key'}", f"PidFile {base / 'sshd.pid'}",
        f"AuthorizedKeysFile {base / 'authorized_keys'}", "PubkeyAuthentication yes",
        "PasswordAuthentication no", "KbdInteractiveAuthentication no", "UsePAM no",
        "StrictModes no",  # the key files live under /tmp (world-writable parent)
        f"AllowUsers {user}", "Subsystem sftp internal-sftp", "ForceCommand internal-sftp",
        "AllowTcpForwarding no", "X11Forwarding no", "PermitTTY no", "LogLevel VERBOSE",
    ]
    if as_root:
        config.append(f"ChrootDirectory {root}")
    (base / "sshd_config").write_text("\n".join(config) + "\n")
    log = base / "sshd.log"
    proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(base / "sshd_config")], stdout=open(log, "wb"),
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for_port(port, proc, log)
    except BaseException:
        stop(proc)
        raise
    return Sshd(port, user, base / "client_key", base / "known_hosts", root, as_root, uid, proc, base)


@dataclass
class S3Server:
    port: int
    server: object

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.stop()


def start_s3(port: int | None = None) -> S3Server:
    """moto's S3 server (its own threaded werkzeug server in this process; real HTTP on loopback)."""
    from moto.server import ThreadedMotoServer

    port = free_port(port or int(os.getenv("PCVE_TEST_S3_PORT", "18050")))
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    return S3Server(port, server)


def closed_port(start: int = 18090) -> int:
    """A loopback port nothing listens on: a source there is unreachable (connection refused)."""
    return free_port(start)
