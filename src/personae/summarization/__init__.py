"""Dialogue summarization: parsing, prompts, demonstrations, consensus decoding, baselines."""

from personae.summarization.baselines import BASELINES, lead, longest
from personae.summarization.demos import Demo, DemoPool
from personae.summarization.dialogue import (
    Dialogue,
    Turn,
    chat_dialogue,
    dialogue_from_messages,
    parse_dialogue,
)
from personae.summarization.summarizer import Summarizer, Summary, SummaryConfig, clean_summary

__all__ = [
    "BASELINES",
    "Demo",
    "DemoPool",
    "Dialogue",
    "Summarizer",
    "Summary",
    "SummaryConfig",
    "Turn",
    "chat_dialogue",
    "clean_summary",
    "dialogue_from_messages",
    "lead",
    "longest",
    "parse_dialogue",
]
