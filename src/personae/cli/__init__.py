"""The `personae` command line.

Every command module is imported here, so `personae --help` loads them all: a command imports
what it runs (the agent, memory, the server, evaluations) inside its function, and `--help` and
the quick commands stay fast.
"""

from __future__ import annotations

import contextlib

import click

from personae import __version__
from personae.cli.adapters import adapters_group
from personae.cli.card import card_group, restyle_command
from personae.cli.card_from_text import from_text_command  # noqa: F401  (adds `card from-text`)
from personae.cli.chat import ask_command, chat_command
from personae.cli.chats import chats_group
from personae.cli.common import check_startup
from personae.cli.db import db_group
from personae.cli.evaluate import eval_group
from personae.cli.experience import experience_group
from personae.cli.keys import keys_group
from personae.cli.lorebook import lorebook_group
from personae.cli.memory import memory_group
from personae.cli.models import backends_command, models_group
from personae.cli.redact import redact_command
from personae.cli.serve import serve_command
from personae.cli.summarize import summarize_command
from personae.cli.train import train_command
from personae.errors import ConfigError
from personae.runtime import tune_allocator


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="personae")
def cli() -> None:
    """personae — talk to characters, offline.

    Start with `personae chat sherlock` (or `personae card list` to see who is here).
    """
    check_startup()


cli.add_command(chat_command)
cli.add_command(ask_command)
cli.add_command(card_group)
cli.add_command(lorebook_group)
cli.add_command(chats_group)
cli.add_command(models_group)
cli.add_command(backends_command)
cli.add_command(restyle_command)
cli.add_command(eval_group)
cli.add_command(experience_group)
cli.add_command(summarize_command)
cli.add_command(redact_command)
cli.add_command(memory_group)
cli.add_command(serve_command)
cli.add_command(keys_group)
cli.add_command(db_group)
cli.add_command(train_command)
cli.add_command(adapters_group)


def main() -> None:
    """The ``personae`` console script."""
    # A bad PERSONAE_MALLOC_TUNING is reported in one line by the command's start-up check.
    with contextlib.suppress(ConfigError):
        tune_allocator()
    cli()
