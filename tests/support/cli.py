"""Run the real `personae` command in a subprocess, with its own PERSONAE_HOME."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_cli(
    *args: str, home: Path, stdin: str = "", timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PERSONAE_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "personae", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
