"""Memory: what a character remembers of its user and of its own voice.

- :mod:`.bank`: the store of memories (redacted, tokenized, embedded) and their search, per user
  and character, on :mod:`personae.retrieval`'s indexes.
- :mod:`.episodic`: observations and reflections, ranked by recency, importance and relevance.
- :mod:`.profile` (rules in ``profile_rules*``): facts the user states about themselves.
- :mod:`.lines`: the character's own lines (example dialogue, imported scripts).
- :mod:`.rolling`: the chat's running summary of what no longer fits the context.
- :mod:`.manager`: one chat's memory: what goes into each prompt (a
  :class:`~personae.context.notes.PromptMemory`) and what each turn leaves behind.
- :mod:`.config`: the ``[memory]`` settings.
"""
