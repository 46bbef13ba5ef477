"""Real servers and engines for the channel tests: a Dovecot IMAP server started per test module as an
unprivileged process on a free loopback port, and checks that poppler and tesseract are installed.

Outside CI a missing Debian package skips the tests that need it; under CI (``CI`` set) it fails them,
because integration tests never skip there.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

DOVECOT_PASSWORD = "secret"


def require_tools(*names: str) -> None:
    """Skip (or fail under CI) when one of the external programs is not installed."""
    missing = [name for name in names if shutil.which(name) is None]
    if not missing:
        return
    message = f"not installed: {', '.join(missing)} (Debian: dovecot-imapd, poppler-utils, tesseract-ocr)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def document_tools() -> None:
    """poppler (pdfinfo, pdfimages, pdftoppm) and tesseract with English data."""
    require_tools("tesseract", "pdfinfo", "pdfimages", "pdftoppm")


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class ImapServer:
    host: str
    port: int
    password: str


def _dovecot_config(workdir: Path, port: int, user: str, group: str, uid: int, gid: int) -> str:
    return f"""
protocols = imap
listen = 127.0.0.1
base_dir = {workdir}/run
state_dir = {workdir}/state
log_path = {workdir}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
first_valid_uid = 1
default_login_user = {user}
default_internal_user = {user}
default_internal_group = {group}
mail_location = maildir:{workdir}/mail/%u
passdb {{
  driver = static
  args = password={DOVECOT_PASSWORD}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={workdir}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
service auth {{
  user = {user}
}}
service auth-worker {{
  user = {user}
}}
"""


def _wait_for_greeting(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
                if connection.recv(64).startswith(b"* OK"):
                    return
        except OSError:
            time.sleep(0.1)
    details = log.read_text(errors="replace") if log.exists() else "(no log)"
    raise RuntimeError(f"dovecot did not start (exit {process.poll()}):\n{details}")


@pytest.fixture(scope="module")
def imap_server() -> Iterator[ImapServer]:
    """Dovecot with a generated config in a temp dir; any user name logs in with the test password."""
    require_tools("dovecot")
    if os.geteuid() == 0:
        # Never run the server as root: drop to nobody, and let nobody own the server's directory.
        uid, gid = pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid
    else:
        uid, gid = os.getuid(), os.getgid()
    user, group = pwd.getpwuid(uid).pw_name, grp.getgrgid(gid).gr_name
    workdir = Path(tempfile.mkdtemp(prefix="dovecot-test-"))
    for sub in ("run", "state", "mail"):
        (workdir / sub).mkdir()
    port = free_loopback_port()
    config = workdir / "dovecot.conf"
    config.write_text(_dovecot_config(workdir, port, user, group, uid, gid))
    if os.geteuid() == 0:
        for path in [workdir, *workdir.rglob("*")]:
            os.chown(path, uid, gid)
    dovecot = shutil.which("dovecot")
    assert dovecot is not None
    drop = {"user": uid, "group": gid, "extra_groups": []} if os.geteuid() == 0 else {}
    process = subprocess.Popen(
        [dovecot, "-F", "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        **drop,  # type: ignore[arg-type]
    )
    try:
        _wait_for_greeting(port, process, workdir / "dovecot.log")
        yield ImapServer("127.0.0.1", port, DOVECOT_PASSWORD)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(workdir, ignore_errors=True)
