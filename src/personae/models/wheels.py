"""Reading model bytes out of wheel files as plain zip archives.

Nothing here imports or runs package code: a wheel is opened with :mod:`zipfile`, its
``*.dist-info/RECORD`` is parsed as CSV, and members are streamed out in chunks. Every problem is
a :class:`BadWheel`, so the caller can decide between fetching the wheel again and giving up.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import re
import zipfile
import zlib
from collections.abc import Generator, Iterable
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 20

# Wheel spec: RECORD hashes are sha256 or stronger; md5/sha1 would not protect anything.
_RECORD_ALGORITHMS = frozenset(
    {"sha256", "sha384", "sha512", "sha3_256", "sha3_384", "sha3_512", "blake2b", "blake2s"}
)
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, KeyError)


class BadWheel(Exception):
    """A wheel is unreadable, lacks a member, or a member disagrees with its RECORD."""

    def __init__(self, wheel: Path, reason: str) -> None:
        super().__init__(f"{wheel.name}: {reason}")
        self.wheel = wheel
        self.reason = reason


@dataclass(frozen=True, slots=True)
class RecordEntry:
    """What a wheel's RECORD promises about one member."""

    algorithm: str
    digest: bytes
    size: int


def normalise(name: str) -> str:
    """Project name as wheel file names spell it (PEP 503 runs of ``-_.`` become ``_``)."""
    return re.sub(r"[-_.]+", "_", name).lower()


def find_wheel(folder: Path, package: str, version: str) -> Path | None:
    """The wheel for ``package==version`` in ``folder``, if pip already saved one there."""
    want = normalise(package)
    for path in sorted(folder.glob("*.whl")):
        # name-version(-build)?-python-abi-platform.whl
        fields = path.name[: -len(".whl")].split("-")
        if len(fields) >= 5 and normalise(fields[0]) == want and fields[1].lower() == version:
            return path
    return None


def read_record(wheel: Path, members: Iterable[str]) -> dict[str, RecordEntry]:
    """RECORD entries for ``members``, after checking each is in the zip with the same size.

    This is cheap (no decompression), so it is also how a cached wheel is judged before reuse;
    the hashes themselves are checked while the bytes stream out (see :func:`read_member`).
    """
    try:
        with zipfile.ZipFile(wheel) as zf:
            sizes = {info.filename: info.file_size for info in zf.infolist()}
            records = [
                name
                for name in sizes
                if name.count("/") == 1 and name.endswith(".dist-info/RECORD")
            ]
            if len(records) != 1:
                raise BadWheel(wheel, "it has no single *.dist-info/RECORD")
            text = zf.read(records[0]).decode("utf-8")
    except BadWheel:
        raise
    except (*_READ_ERRORS, UnicodeDecodeError) as exc:
        raise BadWheel(wheel, f"it is not a readable wheel ({exc})") from exc

    rows = {row[0]: row for row in csv.reader(io.StringIO(text)) if row}
    entries: dict[str, RecordEntry] = {}
    for member in members:
        if member not in sizes:
            raise BadWheel(wheel, f"it does not contain {member}")
        row = rows.get(member)
        if row is None or len(row) < 3 or "=" not in row[1]:
            raise BadWheel(wheel, f"its RECORD lists no hash for {member}")
        algorithm, _, encoded = row[1].partition("=")
        if algorithm not in _RECORD_ALGORITHMS:
            raise BadWheel(wheel, f"its RECORD hashes {member} with unsupported {algorithm!r}")
        try:
            digest = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
            size = int(row[2])
        except (binascii.Error, ValueError) as exc:
            raise BadWheel(wheel, f"its RECORD entry for {member} is malformed") from exc
        if sizes[member] != size:
            raise BadWheel(
                wheel, f"{member} is {sizes[member]} bytes but its RECORD says {size} bytes"
            )
        entries[member] = RecordEntry(algorithm, digest, size)
    return entries


def read_member(wheel: Path, member: str) -> Generator[bytes, None, None]:
    """Stream ``member`` out of ``wheel`` in :data:`CHUNK`-sized pieces.

    Read errors (including zipfile's own CRC check at the end) surface as :class:`BadWheel`.
    Close the generator (``contextlib.closing``) so the zip is released if the caller stops.
    """
    try:
        with zipfile.ZipFile(wheel) as zf, zf.open(member) as src:
            while chunk := src.read(CHUNK):
                yield chunk
    except _READ_ERRORS as exc:
        raise BadWheel(wheel, f"{member} cannot be read ({exc})") from exc
