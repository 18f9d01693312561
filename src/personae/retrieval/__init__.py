"""Lexical retrieval shared by the summarizer's demonstration pool (and memory)."""

from personae.retrieval.bm25 import BM25Index

__all__ = ["BM25Index"]
