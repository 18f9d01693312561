"""Run the real `personae` command in a subprocess, with its own PERSONAE_HOME."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_cli(
    *args: str,
    home: Path,
    stdin: str = "",
    timeout: float = 600,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``env``: variables set on top of this process's environment."""
    return subprocess.run(
        [sys.executable, "-m", "personae", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, "PERSONAE_HOME": str(home), **(env or {})},
        timeout=timeout,
    )
