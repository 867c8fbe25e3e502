"""results.json → bench/REPORT.md and the table in README.md's Performance section."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
README = HERE.parent / "README.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"

MAIN: tuple[tuple[str, str], ...] = (
    ("parse_vs_lxml_ratio", "Parse + normalize vs bare lxml streaming parse"),
    ("parse_vs_feedparser_ratio", "Parse + normalize vs feedparser"),
    ("parse_vs_fast_xml_parser_ratio", "Parse + normalize vs fast-xml-parser (Node)"),
    ("e2e_vs_parse_ratio", "End-to-end import vs bare lxml parse"),
    ("reimport_speedup", "Re-import of an unchanged feed vs first import"),
    ("rss_delta_mb_100k_vs_1k", "Peak RSS, 100k-item import minus 1k-item import"),
    ("api_p99_ms", "`GET /api/imports` p99, 100k logs"),
    ("api_p99_ms_during_import", "`GET /api/imports` p99 during an import"),
    ("sse_p99_ms", "SSE delivery p99, 1,000 clients, during an import"),
    ("history_page_p99_ms", "Admin history page (`GET /`) p99, 1,000,000 runs"),
)


def _num(value: float, unit: str) -> str:
    if unit == "x":
        return f"{value:.2f}×" if value < 10 else f"{value:.1f}×"
    if unit == "items/s":
        return f"{value:,.0f}/s"
    if unit in ("ms", "MB"):
        return f"{value:.1f} {unit}" if value < 100 else f"{value:,.0f} {unit}"
    return f"{value:g} {unit}"


def _target(fig: dict[str, Any]) -> str:
    if fig.get("target") is None:
        return "–"
    sign = "≥" if fig["better"] == "higher" else "≤"
    return f"{sign} {_num(fig['target'], fig['unit'])}"


def _met(fig: dict[str, Any]) -> str:
    return {True: "yes", False: "**no**", None: "–"}[fig.get("met")]


def _row(label: str, fig: dict[str, Any]) -> str:
    unit = fig["unit"]
    spread = f"{_num(fig['min'], unit)} – {_num(fig['max'], unit)}"
    return (
        f"| {label} | {_num(fig['value'], unit)} | {spread} | {fig['runs']} | {_target(fig)}"
        f" | {_met(fig)} |"
    )


def main_table(results: dict[str, Any]) -> str:
    figures = results["figures"]
    lines = [
        "| Figure | Value (median) | Min – max | Runs | Target | Met? |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, label in MAIN:
        if name in figures:
            lines.append(_row(label, figures[name]))
        else:
            lines.append(f"| {label} | not measured | – | 0 | – | – |")
    return "\n".join(lines)


def other_table(results: dict[str, Any]) -> str:
    main = {name for name, _ in MAIN}
    lines = [
        "| Figure | Value (median) | Min – max | Runs | Target | Met? | Note |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, fig in results["figures"].items():
        if name not in main:
            lines.append(f"{_row(f'`{name}`', fig)} {fig.get('note', '')} |")
    return "\n".join(lines)


def _machine(results: dict[str, Any]) -> str:
    m = results["machine"]
    return (
        f"{m['cpu_model']}, {m['cores']} cores, {m['ram_gb']} GB RAM; Python {m['python']}, "
        f"lxml {m['lxml']} (libxml2 {m['libxml2']}), nh3 {m['nh3']}, aiohttp {m['aiohttp']}, "
        f"feedparser {m['feedparser']}, Node {m['node']}, fast-xml-parser "
        f"{results.get('fast_xml_parser_version')}. Load average at start "
        f"{m['load_average_at_start']}, at end {results.get('load_average_at_end')}."
    )


def _profile(results: dict[str, Any]) -> str:
    prof = results.get("profile")
    if not prof:
        return "_The profile did not run._"
    split = prof["split_us_per_item"]
    lines: list[str] = []
    imp = prof.get("import")
    if imp:
        lines += [
            f"End-to-end import of {imp['feed']} under py-spy (`--gil`: samples of the thread"
            " holding the GIL, which every stage of the process shares; C code that releases"
            " it, such as SQLite's own work, is not in these shares):",
            "",
            "| Stage | Share of samples |",
            "| --- | --- |",
        ]
        lines += [f"| {stage} | {share:.1f}% |" for stage, share in imp["stages"].items()]
        threads = ", ".join(f"{name} {share:.0f}%" for name, share in imp["threads"].items())
        lines += ["", f"By thread: {threads}.", ""]
    lines += [
        f"The parse + normalize stage alone ({prof['feed']}), timed without a profiler: parsing "
        f"{split['parse_us']} µs per item, normalizing {split['normalize_us']} µs per item.",
        "",
        "pyinstrument, normalize step, flat self-time (top entries):",
        "",
        "| Self time | Function |",
        "| --- | --- |",
    ]
    lines += [
        f"| {e['percent']:.1f}% | `{e['function']}` |" for e in prof["normalize_self_time_top"]
    ]
    return "\n".join(lines)


def render_report(results: dict[str, Any]) -> str:
    improvement = (HERE / "IMPROVEMENT.md").read_text().strip()
    problems = results.get("errors") or []
    caveats = "\n".join(f"- {c}" for c in results.get("caveats", []))
    failed = "\n".join(f"- **{e['section']}** could not run: {e['error']}" for e in problems)
    return f"""# Benchmarks

Generated by `make bench` ({results["mode"]} mode) on {results["finished_at"]}, in
{results["duration_s"]:.0f} s. Do not edit: `make bench` rewrites this file and
`bench/results.json`. Benchmarks are not tests: a missed target fails nothing.

Machine: {_machine(results)}

## Figures

{main_table(results)}

Medians of the runs; ratios are taken per pair of neighbouring runs. Raw figures:

{other_table(results)}

{failed}

## How it is measured

{(HERE / "METHOD.md").read_text().strip()}

## Caveats of this run

{caveats or "- none"}

## Profile and improvement

{improvement}

### Profile of this run

{_profile(results)}
"""


def render_readme_block(results: dict[str, Any]) -> str:
    return (
        f"{START}\n{main_table(results)}\n\n"
        f"_{results['mode'].capitalize()} run of {results['finished_at'][:10]} on "
        f"{results['machine']['cpu_model']} ({results['machine']['cores']} cores); "
        f"details, raw figures and method in [bench/REPORT.md](bench/REPORT.md)._\n{END}"
    )


def update_readme(results: dict[str, Any], readme: Path = README) -> bool:
    """Replace the block between the markers; False when the markers are missing."""
    text = readme.read_text()
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        return False
    readme.write_text(text[:start] + render_readme_block(results) + text[end + len(END) :])
    return True


def write_all(results: dict[str, Any], out: Path = HERE, *, readme: bool = True) -> bool:
    """Write results.json and REPORT.md into `out`; with `readme`, update README's table
    (False when its markers are missing)."""
    (out / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    (out / "REPORT.md").write_text(render_report(results))
    return update_readme(results) if readme else True


if __name__ == "__main__":  # re-render from an existing results.json
    data = json.loads((HERE / "results.json").read_text())
    (HERE / "REPORT.md").write_text(render_report(data))
    update_readme(data)
