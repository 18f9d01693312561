"""The note a user's message was sent with (issue 14).

``note`` is the system note the character was given just before that message: triggered lore,
what memory recalled, the language to answer in (see :mod:`personae.context.notes`). Later
prompts show it again at the same place, so the prompt up to the newest message stays the same
from turn to turn and the backend's prompt cache covers it; it also tells a reader what the
character knew when it answered. Empty for replies and for messages stored before this.
"""

SQL = """
ALTER TABLE messages ADD COLUMN note TEXT NOT NULL DEFAULT '';
"""
