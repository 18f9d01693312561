"""Turning a character and a chat into the next reply."""

from personae.agent.agent import Agent, ReplyStream
from personae.agent.chat import Chat, Reply
from personae.agent.prompt import AssembledPrompt, PromptBuilder, Turn
from personae.agent.restyle import restyle
from personae.context.notes import PromptMemory

__all__ = [
    "Agent",
    "AssembledPrompt",
    "Chat",
    "PromptBuilder",
    "PromptMemory",
    "Reply",
    "ReplyStream",
    "Turn",
    "restyle",
]
