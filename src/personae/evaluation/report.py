"""Evaluation reports: one object, written as JSON (for machines), Markdown and a self-contained
HTML page with bar charts (inline SVG: no plotting library, opens offline)."""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from personae.metrics.stats import Estimate


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[Any]]

    def as_dict(self) -> dict[str, Any]:
        return {"title": self.title, "columns": self.columns, "rows": self.rows}


@dataclass
class BarChart:
    """Horizontal bars, one per label, with optional confidence whiskers."""

    title: str
    labels: list[str]
    values: list[float]
    low: list[float] | None = None
    high: list[float] | None = None
    max_value: float | None = None
    unit: str = ""

    @classmethod
    def of_estimates(
        cls, title: str, estimates: dict[str, Estimate], *, scale: float = 1.0, **kwargs: Any
    ) -> BarChart:
        labels = list(estimates)
        return cls(
            title,
            labels,
            [estimates[k].mean * scale for k in labels],
            [estimates[k].low * scale for k in labels],
            [estimates[k].high * scale for k in labels],
            **kwargs,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "labels": self.labels,
            "values": self.values,
            "low": self.low,
            "high": self.high,
        }

    def svg(self) -> str:
        bar_h, gap, label_w, plot_w = 18, 8, 200, 420
        finite = [v for v in (self.high or self.values) if not math.isnan(v)]
        top = self.max_value or (max(finite) if finite else 1.0) or 1.0
        height = len(self.labels) * (bar_h + gap) + gap + 20
        parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + plot_w + 80}" '
            f'height="{height}" role="img" aria-label="{html.escape(self.title)}">'
        ]

        def x(v: float) -> float:
            return label_w + plot_w * max(0.0, min(v, top)) / top

        for i, (label, value) in enumerate(zip(self.labels, self.values, strict=True)):
            y = gap + i * (bar_h + gap)
            parts.append(
                f'<text x="{label_w - 6}" y="{y + bar_h - 5}" text-anchor="end" '
                f'font-size="12">{html.escape(label)}</text>'
            )
            if math.isnan(value):
                continue
            parts.append(
                f'<rect x="{label_w}" y="{y}" width="{x(value) - label_w:.1f}" '
                f'height="{bar_h}" fill="#5b8def"/>'
            )
            if self.low is not None and self.high is not None:
                lo, hi = self.low[i], self.high[i]
                if not (math.isnan(lo) or math.isnan(hi)):
                    mid = y + bar_h / 2
                    parts.append(
                        f'<line x1="{x(lo):.1f}" x2="{x(hi):.1f}" y1="{mid}" y2="{mid}" '
                        'stroke="#222" stroke-width="1.5"/>'
                    )
            parts.append(
                f'<text x="{x(value) + 4:.1f}" y="{y + bar_h - 5}" font-size="11">'
                f"{value:.2f}{html.escape(self.unit)}</text>"
            )
        axis_y = height - 14
        parts.append(
            f'<text x="{label_w}" y="{axis_y + 10}" font-size="10">0</text>'
            f'<text x="{label_w + plot_w}" y="{axis_y + 10}" font-size="10" '
            f'text-anchor="end">{top:g}</text></svg>'
        )
        return "".join(parts)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "–" if math.isnan(value) else f"{value:.4g}" if abs(value) < 1 else f"{value:.2f}"
    if isinstance(value, Estimate):
        return value.format()
    return str(value)


@dataclass
class Report:
    title: str
    description: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    tables: list[Table] = field(default_factory=list)
    charts: list[BarChart] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "description": self.description,
            "settings": self.settings,
            "tables": [t.as_dict() for t in self.tables],
            "charts": [c.as_dict() for c in self.charts],
            "data": self.data,
        }

    def to_markdown(self) -> str:
        lines = [f"# {self.title}", ""]
        if self.description:
            lines += [self.description, ""]
        if self.settings:
            lines += [f"- **{k}**: {v}" for k, v in self.settings.items()] + [""]
        for table in self.tables:
            lines += [f"## {table.title}", "", _markdown_table(table.columns, table.rows), ""]
        return "\n".join(lines)

    def to_html(self) -> str:
        out = [
            "<!doctype html><html><head><meta charset='utf-8'>",
            f"<title>{html.escape(self.title)}</title><style>"
            "body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em}"
            "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;"
            "padding:3px 8px;text-align:left;vertical-align:top}th{background:#f3f3f3}"
            "</style></head><body>",
            f"<h1>{html.escape(self.title)}</h1>",
        ]
        if self.description:
            out.append(f"<p>{html.escape(self.description)}</p>")
        if self.settings:
            out.append("<ul>")
            out += [
                f"<li><b>{html.escape(str(k))}</b>: {html.escape(str(v))}</li>"
                for k, v in self.settings.items()
            ]
            out.append("</ul>")
        for chart in self.charts:
            out.append(f"<h2>{html.escape(chart.title)}</h2>{chart.svg()}")
        for table in self.tables:
            out.append(f"<h2>{html.escape(table.title)}</h2><table><tr>")
            out += [f"<th>{html.escape(c)}</th>" for c in table.columns]
            out.append("</tr>")
            for row in table.rows:
                cells = "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row)
                out.append(f"<tr>{cells}</tr>")
            out.append("</table>")
        out.append("</body></html>")
        return "\n".join(out)

    def write(self, stem: str | Path) -> list[Path]:
        """Write ``stem.json``, ``stem.md`` and ``stem.html``; returns the paths.

        A dot inside the stem stays (``dialogsum.dev`` → ``dialogsum.dev.json``); a stem that
        already ends in one of the three suffixes loses it (``out.html`` → ``out.json`` …).
        """
        stem = Path(stem)
        if stem.suffix.lower() in (".json", ".md", ".html"):
            stem = stem.with_suffix("")
        stem.parent.mkdir(parents=True, exist_ok=True)
        paths = [stem.with_name(stem.name + s) for s in (".json", ".md", ".html")]
        paths[0].write_text(
            json.dumps(strict_json(self.to_json()), ensure_ascii=False, indent=2, allow_nan=False)
            + "\n",
            encoding="utf-8",
        )
        paths[1].write_text(self.to_markdown(), encoding="utf-8")
        paths[2].write_text(self.to_html(), encoding="utf-8")
        return paths


def strict_json(value: Any) -> Any:
    """``value`` made writable as standard JSON: estimates become dicts, paths strings, and
    NaN or infinite numbers ``null`` (what "no value" means in every JSON reader; a bare NaN
    breaks browsers and ``jq``)."""
    if isinstance(value, Estimate):
        value = value.as_dict()
    if isinstance(value, dict):
        return {str(k): strict_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def _markdown_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def esc(value: Any) -> str:
        return _cell(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(esc(c) for c in columns) + " |"]
    lines.append("|" + "|".join("---" for _ in columns) + "|")
    lines += ["| " + " | ".join(esc(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)
