"""A throwaway PostgreSQL server on loopback, for the tests, the benchmarks and trying the
scale-out store on one machine.

It runs the binaries of the pinned ``pgserver`` wheel (PostgreSQL 16 with pgvector; installed by
the test extra) or, without it, Debian's ``postgresql`` package, from a fresh data directory in a
temporary folder, listening on 127.0.0.1 and a free port, with trust authentication (only this
machine's loopback can reach it). PostgreSQL refuses to run as root: as root the server runs as
``nobody``, from a linked copy of the binaries when ``nobody`` cannot reach them where they are
(a root-only Python such as ``/root/.pyenv``). :meth:`LocalPostgres.stop` (or leaving the
``with`` block) stops it and deletes the folder.

    with LocalPostgres() as pg:
        db = Database(pg.url("personae"))
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import socket
import stat
import subprocess
import tempfile
import time
from pathlib import Path

from personae.errors import StoreError

_SUPERUSER = "personae"
_UNPRIVILEGED = "nobody"


def postgres_binaries() -> Path | None:
    """The folder with ``initdb``, ``pg_ctl`` and ``postgres``: pgserver's bundled build (it has
    pgvector) first, else the newest of Debian's; None when neither is installed."""
    # Located, not imported: importing pgserver sets up state of its own that is not needed here.
    spec = importlib.util.find_spec("pgserver")
    if spec is not None and spec.origin is not None:
        bundled = Path(spec.origin).parent / "pginstall" / "bin"
        if (bundled / "initdb").exists():
            return bundled
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=_major)
    return debian[-1].parent if debian else None


def _major(initdb: Path) -> int:
    try:
        return int(initdb.parent.parent.name)
    except ValueError:
        return 0


def _others_can_run(binaries: Path) -> bool:
    """Whether a user other than the owner can reach and run ``binaries/initdb``: every folder
    above it searchable by others, the program executable by others."""
    initdb = binaries.resolve() / "initdb"
    try:
        if not initdb.stat().st_mode & stat.S_IXOTH:
            return False
        return all(folder.stat().st_mode & stat.S_IXOTH for folder in initdb.parents)
    except OSError:
        return False


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)  # same file system: no bytes copied
    except OSError:
        shutil.copy2(source, target)


def _linked_copy(binaries: Path, folder: Path) -> Path:
    """Copy the install around ``binaries`` into ``folder`` with the same layout (hard links
    where the file system allows); returns the copy's ``bin``. The binaries find their libraries
    relative to themselves: the install (``bin/``, ``lib/``, ``share/``) moves as a whole, with
    the wheel's vendored libraries beside its package (pgserver's RPATH is
    ``$ORIGIN/../../../pgserver.libs``)."""
    install = binaries.resolve().parent  # …/pgserver/pginstall
    package = install.parent  # …/pgserver
    copy = folder / package.name / install.name
    shutil.copytree(install, copy, symlinks=True, copy_function=_link_or_copy)
    vendored = package.parent / f"{package.name}.libs"
    if vendored.is_dir():
        shutil.copytree(
            vendored, folder / vendored.name, symlinks=True, copy_function=_link_or_copy
        )
    return copy / binaries.name


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalPostgres:
    """One PostgreSQL server in a temporary folder; see the module's docstring."""

    def __init__(
        self, *, port: int | None = None, binaries: Path | None = None, durable: bool = True
    ) -> None:
        found = binaries or postgres_binaries()
        if found is None:
            raise StoreError(
                "no PostgreSQL binaries: pip install pgserver==0.1.4 (it bundles PostgreSQL "
                "with pgvector) or apt-get install postgresql"
            )
        self.binaries = found
        self.port = port or _free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="personae-pg-"))
        self.data = self.folder / "data"
        self._as_root = os.geteuid() == 0
        # durable=False: no fsync (tests: a crash of the machine loses nothing they need)
        self.durable = durable
        self._started = False

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{_SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        user = _UNPRIVILEGED if self._as_root else None
        try:
            return subprocess.run(
                [str(self.binaries / args[0]), *args[1:]],
                capture_output=True,
                text=True,
                check=True,
                user=user,
                cwd=self.folder,
                timeout=120,
            )
        except subprocess.CalledProcessError as exc:
            detail = (exc.stderr or exc.stdout or "").strip().splitlines()[-1:]
            raise StoreError(f"{args[0]} failed: {' '.join(detail) or exc}") from exc
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise StoreError(f"{args[0]} failed: {exc}") from exc

    def start(self) -> LocalPostgres:
        if self._as_root:
            if not _others_can_run(self.binaries):
                self.binaries = _linked_copy(self.binaries, self.folder)
            # The unprivileged user owns the folder.
            os.chmod(self.folder, 0o700)
            shutil.chown(self.folder, user=_UNPRIVILEGED)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            _SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} "
            "-c max_connections=400 -c shared_buffers=128MB"
            + ("" if self.durable else " -c fsync=off -c synchronous_commit=off")
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.folder / "server.log"),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )
        self._started = True
        return self

    def create_database(self, name: str, *, template: str | None = None) -> str:
        """Create database ``name`` (a fresh one for a test or a benchmark; a copy of
        ``template`` if given); returns its URL."""
        import psycopg

        # names: the caller's own identifiers, never a user's
        sql = f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(sql)
        return self.url(name)

    def stop(self) -> None:
        if self._started:
            with contextlib.suppress(StoreError):
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
            self._started = False
        # pg_ctl has returned: give the postmaster's children a moment to leave the folder
        for _ in range(20):
            try:
                shutil.rmtree(self.folder)
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.1)

    def __enter__(self) -> LocalPostgres:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


__all__ = ["LocalPostgres", "postgres_binaries"]
