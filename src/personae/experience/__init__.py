"""Training data for a character (Character-LLM's method, issue 17).

From a profile (a biography, a wiki page, a card) the pipeline reconstructs what the character
lived through: scenes, then experiences (multi-turn interactions with the character's thoughts
and speech), then protective experiences (someone asks about what the character cannot know),
kept only when they pass quality gates, and written as chat-format JSONL for fine-tuning.
:mod:`.from_text` makes a character from a novel or a script: the lines it speaks, attributed
from the narration, and a card drafted from them.
"""
