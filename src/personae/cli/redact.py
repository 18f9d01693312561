"""`personae redact`: a stdin-to-stdout filter that redacts PII line by line."""

from __future__ import annotations

import json
import sys

import click

from personae.cli.common import user_errors
from personae.errors import InvalidInput
from personae.privacy import MODES, PII_TYPES, RedactionPolicy, parse_types, redact


def _split_ending(line: str) -> tuple[str, str]:
    if line.endswith("\r\n"):
        return line[:-2], "\r\n"
    if line.endswith("\n"):
        return line[:-1], "\n"
    return line, ""


@click.command("redact")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per input line.")
@click.option("--mode", default="mask", show_default=True, help=" | ".join(MODES))
@click.option(
    "--types", "types", help=f"Comma-separated subset (default all): {','.join(PII_TYPES)}"
)
@user_errors
def redact_command(as_json: bool, mode: str, types: str | None) -> None:
    """Redact PII (emails, phone numbers, cards, SSNs, 주민등록번호, IPs, IBANs, addresses)
    from stdin, line by line.

    Modes: mask ([EMAIL]-style placeholders), redact ([REDACTED]), partial (keep the last 4
    digits, the first letter of an email). With --json each line becomes
    {"text": ..., "spans": [{"type", "start", "end"}]}, offsets into the input line."""
    policy = RedactionPolicy(mode=mode, types=parse_types(types))
    # Bytes both ways: input that is not UTF-8 gets a clear error, and the output is UTF-8
    # whatever the locale says (click's stream helpers for this are deprecated since 8.5).
    source = sys.stdin.buffer
    out = sys.stdout.buffer
    interactive = out.isatty()
    for number, raw in enumerate(source, start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInput(
                f"stdin line {number} is not UTF-8 text ({exc.reason} at byte {exc.start}); "
                "convert it first, e.g. with iconv"
            ) from None
        body, ending = _split_ending(line)
        result = redact(body, policy)
        if as_json:
            spans = [{"type": s.type, "start": s.start, "end": s.end} for s in result.spans]
            record = json.dumps({"text": result.text, "spans": spans}, ensure_ascii=False)
            out.write((record + "\n").encode("utf-8"))
        else:
            out.write((result.text + ending).encode("utf-8"))
        if interactive:
            out.flush()
    out.flush()
