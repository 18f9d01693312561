"""What storing each piece of a reply before it is shown costs a chat turn.

`python -m benchmarks.bench_checkpoint [--turns 30] [--words 200]`

A stored chat checkpoints the reply's text before handing each piece on (so a kill never loses
what was shown). This times whole turns (``Chat.send``, drained) on a scripted backend that
streams instantly, so the checkpoints are all there is to see, in three variants run
alternately on one database: checkpoints as shipped (no fsync), checkpoints with an fsync each
(the database's default ``synchronous=FULL``), and no checkpoints at all. The data directory
is a temporary folder on the disk that holds this script's results, not tmpfs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tests.support.factories import make_character
from tests.support.scripted import ScriptedBackend

from benchmarks._common import RESULTS, summary, table, write_result
from personae.agent import Chat
from personae.store import CharacterRepository, ChatRepository, Database


def _with_fsync(repo: ChatRepository) -> Callable[[int, str], None]:
    def save(reply_id: int, text: str) -> None:
        with repo.db.transaction() as conn:  # as it is, at the database's synchronous=FULL
            conn.execute("UPDATE messages SET content = ? WHERE id = ?", (text, reply_id))

    return save


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=30)
    parser.add_argument("--words", type=int, default=200, help="pieces per reply")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    reply = " ".join(f"w{i}" for i in range(args.words))
    times: dict[str, list[float]] = {"per piece, no fsync": [], "per piece, fsync": [], "none": []}
    with tempfile.TemporaryDirectory(dir=RESULTS) as folder:
        db = Database(Path(folder) / "bench.db")
        CharacterRepository(db).add(make_character())
        backend = ScriptedBackend(n_ctx=1_000_000)
        chat = Chat.start(db, "holmes", backend)
        shipped = chat.chats.save_partial
        variants: dict[str, Callable[[int, str], None]] = {
            "per piece, no fsync": shipped,
            "per piece, fsync": _with_fsync(chat.chats),
            "none": lambda reply_id, text: None,
        }
        for turn in range(args.turns):
            for name, save in variants.items():
                chat.chats.save_partial = save  # type: ignore[method-assign]
                backend.enqueue(reply)
                start = time.perf_counter()
                for _ in chat.send(f"message {turn}"):
                    pass
                times[name].append((time.perf_counter() - start) * 1000)
                chat.undo()  # keep the prompt the same size for every turn
        db.close()
    none = statistics.median(times["none"])
    rows = []
    for name, values in times.items():
        median = statistics.median(values)
        extra = (median - none) / args.words * 1000
        rows.append((name, f"{median:.1f}", f"{extra:+.0f}"))
    print(table(rows, ("checkpoints", "turn ms (median)", "us per piece vs none")))
    write_result(
        "checkpoint",
        " ".join([sys.executable, "-m", "benchmarks.bench_checkpoint", *sys.argv[1:]]),
        {
            "turns": args.turns,
            "pieces": args.words,
            "ms": {k: summary(v) for k, v in times.items()},
        },
    )


if __name__ == "__main__":
    main()
