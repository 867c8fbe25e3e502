"""Regenerate the CLI tour in README.md from the parser's own --help (tests/test_docs.py checks it).

Usage: python scripts/readme_cli.py          # rewrite README.md in place
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
BEGIN, END = "<!-- cli:begin -->", "<!-- cli:end -->"


def cli_tour() -> str:
    """`jobimport --help` and each command's usage, at a fixed width so the text is stable."""
    from jobimport.cli import build_parser

    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "100"  # argparse wraps at the terminal width
    try:
        parser = build_parser()
        parts = ["```text", "$ jobimport --help", parser.format_help().rstrip()]
        actions = [a for a in parser._actions if a.dest == "command"]
        for name, sub in actions[0].choices.items():  # type: ignore[union-attr]
            parts += ["", f"$ jobimport {name} --help", sub.format_help().rstrip()]
    finally:
        if saved is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved
    parts.append("```")
    return "\n".join(parts)


def render(readme: str) -> str:
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    return pattern.sub(lambda _: f"{BEGIN}\n{cli_tour()}\n{END}", readme)


if __name__ == "__main__":
    README.write_text(render(README.read_text()))
    sys.exit(0)
