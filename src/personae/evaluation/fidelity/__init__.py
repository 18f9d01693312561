"""The fidelity evaluation (``personae eval fidelity``): every reply of a corpus of transcripts
checked by :func:`personae.checks.check_reply`, and the report.

- :mod:`.transcripts`: reading transcripts (JSONL, one record per reply).
- :mod:`.report`: rates of each flag with bootstrap CIs, per character and language, against
  issue 14's goals; JSON, Markdown and HTML.
"""
