"""Figures, the run context shared by the benchmarks, the console table and the Markdown."""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Figure:
    """One measured figure next to its reference from the same run and server."""

    name: str
    value: float
    unit: str
    reference: float | None
    ref_label: str
    target: str
    met: bool | None
    ratio: float | None = None
    note: str = ""

    def __post_init__(self):
        if self.ratio is None and self.reference:
            self.ratio = self.value / self.reference


@dataclass
class Sections:
    """Markdown sections the benchmarks add to docs/performance.md, in insertion order."""

    parts: dict[str, list[str]] = field(default_factory=dict)

    def add(self, heading: str, text: str) -> None:
        self.parts.setdefault(heading, []).append(text.rstrip() + "\n")


def fmt(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "-"
    if value != value:  # NaN
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def _met(flag: bool | None) -> str:
    return {True: "yes", False: "NO", None: "-"}[flag]


def rows(figures: list[Figure]) -> list[list[str]]:
    return [
        [
            f.name,
            f"{fmt(f.value)} {f.unit}",
            f"{fmt(f.reference)} {f.unit if f.reference is not None else ''}".strip()
            + (f" ({f.ref_label})" if f.ref_label else ""),
            fmt(f.ratio),
            f.target,
            _met(f.met),
        ]
        for f in figures
    ]


HEADER = ["figure", "value", "reference", "ratio", "target", "met"]


def console_table(figures: list[Figure]) -> str:
    table = [HEADER, *rows(figures)]
    widths = [max(len(row[i]) for row in table) for i in range(len(HEADER))]
    lines = []
    for index, row in enumerate(table):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def markdown_table(figures: list[Figure]) -> str:
    def esc(cell: str) -> str:
        return cell.replace("|", "\\|")

    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in rows(figures)]
    notes = [f"- **{f.name}**: {f.note}" for f in figures if f.note]
    return "\n".join(lines) + ("\n\n" + "\n".join(notes) if notes else "") + "\n"


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    meminfo = Path("/proc/meminfo").read_text()
    total_kb = int(re.search(r"^MemTotal:\s+(\d+)", meminfo, re.M).group(1))
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": nproc or str(os.cpu_count()),
        "memory": f"{total_kb / 1024 / 1024:.1f} GiB",
        "cpu": model.group(1).strip() if model else platform.processor() or "unknown",
        "python": sys.version.split()[0],
        "kernel": platform.release(),
        "load": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
    }
