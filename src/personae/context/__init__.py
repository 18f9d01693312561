"""What a prompt carries besides the card and the history, shared by memory and the agent.

- :mod:`.notes`: the per-turn note (lore the chat triggered, what memory recalled, the language to
  answer in) as :class:`~.notes.NoteSection` s, and :class:`~.notes.PromptMemory`, memory's part
  of one prompt.
- :mod:`.budget`: the token budget rules the prompt builder and the rolling summary share.

Memory builds these and the agent places them (:mod:`personae.agent.prompt`); neither imports
the other for it.
"""
