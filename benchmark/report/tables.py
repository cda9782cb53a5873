"""Each table three ways: CSV (every number, machine-readable), Markdown and LaTeX (formatted)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from benchmark import io

# LaTeX's special characters, for the caption (Styler escapes the cells and headers itself).
_LATEX = str.maketrans(
    {
        "\\": r"\textbackslash{}",
        "&": r"\&",
        "%": r"\%",
        "$": r"\$",
        "#": r"\#",
        "_": r"\_",
        "{": r"\{",
        "}": r"\}",
        "~": r"\textasciitilde{}",
        "^": r"\textasciicircum{}",
    }
)


def mean_std(mean: float, std: float, digits: int = 1) -> str:
    """`mean ± std`; the mean alone when there is no std (one seed, or none published)."""
    if math.isnan(mean):
        return "—"
    return f"{mean:.{digits}f}" if math.isnan(std) else f"{mean:.{digits}f} ± {std:.{digits}f}"


def estimate(point: float, low: float, high: float, digits: int = 1, why_no_interval: str = "1 seed") -> str:
    """`point [low, high]`; the point alone, marked, when there is no interval (one seed)."""
    if math.isnan(low):
        return f"{point:.{digits}f} (no CI: {why_no_interval})"
    return f"{point:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def markdown(display: pd.DataFrame, title: str, notes: list[str]) -> str:
    body = display.to_markdown(index=False, disable_numparse=True) if len(display) else "(no rows)"
    return "\n\n".join([f"# {title}", *notes, body]) + "\n"


def latex(display: pd.DataFrame, title: str, notes: list[str]) -> str:
    caption = " ".join([title + ".", *notes]).replace("`", "").translate(_LATEX)
    styler = display.style.hide(axis="index").format(escape="latex").format_index(escape="latex", axis=1)
    return styler.to_latex(caption=caption, hrules=True, position="htbp", position_float="centering")


def write(folder: Path, name: str, data: pd.DataFrame, display: pd.DataFrame, title: str, notes: list[str]) -> None:
    """`<name>.csv` from `data`; `<name>.md` and `<name>.tex` from `display` (strings)."""
    io.write_csv(folder / f"{name}.csv", data)
    io.write_text(folder / f"{name}.md", markdown(display, title, notes))
    io.write_text(folder / f"{name}.tex", latex(display, title, notes))
