"""The throwaway PostgreSQL server: as root it runs as ``nobody``, which must reach the binaries
even when they are installed where only root can (a root-only Python, as on CI)."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path

import pytest

from personae.store.local_postgres import (
    LocalPostgres,
    _linked_copy,
    _others_can_run,
    postgres_binaries,
)


def _fake_install(root: Path) -> Path:
    """``root/pgserver/pginstall/{bin,lib}`` and ``root/pgserver.libs``, as the wheel lays out."""
    binaries = root / "pgserver" / "pginstall" / "bin"
    binaries.mkdir(parents=True)
    (binaries / "initdb").write_text("#!/bin/sh\n")
    (binaries / "initdb").chmod(0o755)
    (binaries.parent / "lib").mkdir()
    (binaries.parent / "lib" / "vector.so").write_bytes(b"so")
    (root / "pgserver.libs").mkdir()
    (root / "pgserver.libs" / "libpq.so.5").write_bytes(b"libpq")
    return binaries


def test_binaries_under_a_private_folder_are_out_of_others_reach(tmp_path: Path) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    private.chmod(0o700)
    assert not _others_can_run(_fake_install(private))


def test_binaries_in_open_folders_are_within_reach() -> None:
    open_root = Path(tempfile.mkdtemp())
    try:
        open_root.chmod(0o755)
        binaries = _fake_install(open_root)
        for folder in (open_root / "pgserver", binaries.parent, binaries):
            folder.chmod(0o755)
        assert _others_can_run(binaries)
        (binaries / "initdb").chmod(0o700)
        assert not _others_can_run(binaries)
    finally:
        shutil.rmtree(open_root)


def test_a_missing_program_is_out_of_reach(tmp_path: Path) -> None:
    assert not _others_can_run(tmp_path / "nowhere" / "bin")


def test_the_linked_copy_keeps_the_layout_the_binaries_find_their_libraries_by(
    tmp_path: Path,
) -> None:
    binaries = _fake_install(tmp_path / "site")
    copy = _linked_copy(binaries, tmp_path / "run")
    assert copy == tmp_path / "run" / "pgserver" / "pginstall" / "bin"
    # $ORIGIN/../../../pgserver.libs from the copied bin/ is the copied vendored folder
    assert (copy / ".." / ".." / ".." / "pgserver.libs" / "libpq.so.5").resolve().read_bytes() == (
        b"libpq"
    )
    assert (copy.parent / "lib" / "vector.so").read_bytes() == b"so"
    # same file system: linked, not copied
    assert (copy / "initdb").stat().st_ino == (binaries / "initdb").stat().st_ino
    assert stat.S_IMODE((copy / "initdb").stat().st_mode) == 0o755


@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs the server as another user")
def test_root_runs_a_server_from_binaries_only_root_can_reach(tmp_path: Path) -> None:
    found = postgres_binaries()
    if found is None or found.resolve().parent.parent.name != "pgserver":
        pytest.skip("pgserver's PostgreSQL is not installed")
    import psycopg

    private = tmp_path / "root-only"
    private.mkdir(mode=0o700)
    private.chmod(0o700)
    package = found.resolve().parent.parent
    shutil.copytree(package, private / package.name, symlinks=True)
    libs = package.parent / f"{package.name}.libs"
    if libs.is_dir():
        shutil.copytree(libs, private / libs.name, symlinks=True)
    binaries = private / package.name / "pginstall" / "bin"
    assert not _others_can_run(binaries)

    with LocalPostgres(binaries=binaries, durable=False) as pg:
        assert pg.binaries.is_relative_to(pg.folder)
        with psycopg.connect(pg.url()) as conn:
            assert conn.execute("SELECT 1 + 1").fetchone() == (2,)
        folder = pg.folder
    assert not folder.exists()
