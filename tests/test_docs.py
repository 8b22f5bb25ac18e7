"""The documentation site: every example runs and prints what the page says, and the site builds.

- Every ``docs/examples/**/*.py`` defines ``main(url)``; each runs against an empty private
  redis-server, and its stdout must equal its ``#>`` comments, line for line (a comment line
  ending in `` ...`` only has to be a prefix of the printed line).
- ``docs/examples/howto/testing/`` is a small pytest project: it runs as one.
- Every example file is included by a page, and pages show Python only from example files.
- ``mkdocs build --strict`` passes, and the built site loads nothing from outside.
- The built site renders in headless Chromium (docs/render_check.py); skipped only where no
  ``chromium`` is installed, unless TYPEDREDIS_REQUIRE_CHROMIUM=1 (CI) turns that into a failure.

``docs/examples/typing/`` belongs to the type-checking page and is checked by tests/typing.
"""

from __future__ import annotations

import importlib.util
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import redis

from typedredis.testing import RedisServer

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
EXAMPLES = DOCS / "examples"
NOT_OURS = (EXAMPLES / "typing",)
"""Examples of the type-checking page: mypy runs them (tests/typing), not this file."""
PYTEST_PROJECTS = (EXAMPLES / "howto" / "testing",)
"""Example directories that are pytest projects of their own (conftest.py, test_*.py)."""
FOREIGN = {EXAMPLES / "howto" / "indexedredis_before.py": "IndexedRedis"}
"""Examples written for another library (the module they need): run only where it is installed."""


def _under(path: Path, roots: tuple[Path, ...]) -> bool:
    return any(root == path or root in path.parents for root in roots)


def example_files() -> list[Path]:
    """Every example source of the docs site (not the type-checking page's)."""
    return sorted(
        p for p in EXAMPLES.rglob("*.py") if "__pycache__" not in p.parts and not _under(p, NOT_OURS)
    )


RUNNABLE = [p for p in example_files() if not _under(p, PYTEST_PROJECTS) and p not in FOREIGN]
OUTPUT = re.compile(r"^\s*#> ?(.*)$")


def expected_output(path: Path) -> list[str]:
    """The ``#>`` comment lines of an example: what it must print, in order."""
    return [m.group(1) for line in path.read_text().splitlines() if (m := OUTPUT.match(line))]


_modules: dict[Path, ModuleType] = {}


def load(path: Path) -> ModuleType:
    """Import an example once per session, under a unique module name."""
    if path not in _modules:
        name = "docs_example__" + "__".join(path.relative_to(EXAMPLES).with_suffix("").parts)
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        _modules[path] = module
    return _modules[path]


@pytest.fixture(scope="module")
def own_server() -> Iterator[str]:
    """A private server for the examples when the suite runs against a shared one."""
    with RedisServer() as server:
        yield server.url


@pytest.fixture
def empty_server(request: pytest.FixtureRequest, redis_url: str) -> str:
    """The URL of an empty server that the examples may fill as they like.

    Normally the suite's private server, flushed by the ``client`` fixture (which also connects
    typedredis). The examples print exact primary keys, so on a shared TYPEDREDIS_TEST_URL
    server (never flushed) they get a private server of their own instead.
    """
    if os.environ.get("TYPEDREDIS_TEST_URL"):
        url: str = request.getfixturevalue("own_server")
        with redis.Redis.from_url(url) as raw:
            raw.flushall()
        return url
    request.getfixturevalue("client")
    return redis_url


@pytest.mark.parametrize("path", RUNNABLE, ids=[str(p.relative_to(EXAMPLES)) for p in RUNNABLE])
def test_example_prints_what_its_comments_say(
    path: Path, empty_server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    module = load(path)
    assert callable(getattr(module, "main", None)), f"{path.name} must define main(url: str)"
    capsys.readouterr()
    module.main(empty_server)
    printed = capsys.readouterr().out.splitlines()
    expected = expected_output(path)
    assert matches(printed, expected), f"{path.name}: the output differs from its #> comments"


def matches(printed: list[str], expected: list[str]) -> bool:
    """Lines equal, except that an expected line ending in " ..." only has to be a prefix."""
    if len(printed) != len(expected):
        return printed == expected  # let pytest show the whole difference
    for got, want in zip(printed, expected, strict=True):
        if want.endswith(" ...") and got.startswith(want[:-4]) and len(got) > len(want) - 4:
            continue
        if got != want:
            return printed == expected
    return True


@pytest.mark.parametrize("project", PYTEST_PROJECTS, ids=[p.name for p in PYTEST_PROJECTS])
def test_pytest_example_project_passes(project: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "TYPEDREDIS_TEST_URL"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(project)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert re.search(r"\b\d+ passed\b", done.stdout), done.stdout[-2000:]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("path", list(FOREIGN), ids=[p.name for p in FOREIGN])
def test_foreign_example_compiles_and_runs_where_its_library_is_installed(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    compile(path.read_text(), str(path), "exec")  # at least valid Python, wherever it runs
    if importlib.util.find_spec(FOREIGN[path]) is None:
        pytest.skip(f"{FOREIGN[path]} is not installed: {path.name} was only compiled")
    port = _free_port()
    with RedisServer(args=("--port", str(port), "--bind", "127.0.0.1")):
        capsys.readouterr()
        load(path).main({"host": "127.0.0.1", "port": port, "db": 0})
        assert matches(capsys.readouterr().out.splitlines(), expected_output(path))


def _pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


SNIPPET = re.compile(r'--8<--\s+"([^"]+)"')


def test_every_example_is_shown_on_a_page() -> None:
    included: set[Path] = set()
    for page in _pages():
        for target in SNIPPET.findall(page.read_text()):
            included.add((ROOT / target.split(":")[0]).resolve())
    missing = [str(p.relative_to(ROOT)) for p in example_files() if p.resolve() not in included]
    assert not missing, f"example files no page includes: {missing}"


def test_pages_show_python_only_from_example_files() -> None:
    fence = re.compile(r"^([ \t]*)```(?:python|py|pycon)\b[^\n]*\n(.*?)^\1```", re.M | re.S)
    inline: list[str] = []
    for page in _pages():
        if page == DOCS / "how-to" / "type-checking.md":
            continue  # the type-checking page is not ours; its examples live in docs/examples/typing
        for match in fence.finditer(page.read_text()):
            body = [line.strip() for line in match.group(2).splitlines() if line.strip()]
            if not all(line.startswith("--8<--") for line in body):
                inline.append(f"{page.relative_to(DOCS)}: {body[:1]}")
    assert not inline, f"Python code written into pages instead of docs/examples files: {inline}"


# -- the built site ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """``mkdocs build --strict`` into a temporary directory: (site dir, build log)."""
    pytest.importorskip("mkdocs", reason="the docs extra is not installed (pip install -e .[dev])")
    site = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    log = done.stdout + done.stderr
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{log[-5000:]}"
    return site, log


def test_site_builds_strictly_without_warnings(built_site: tuple[Path, str]) -> None:
    site, log = built_site
    assert "WARNING" not in log, log
    for page in ("index.html", "reference/api/index.html", "how-to/type-checking/index.html"):
        assert (site / page).exists(), page
    # the example sources are published beside the pages that link to them
    assert (site / "examples" / "quickstart.py").exists()


EXTERNAL_RESOURCE = re.compile(
    r"""<(?:script|img|iframe|source|audio|video|embed)\b[^>]*\bsrc=["']?(?:https?:)?//"""
    r"""|<link\b[^>]*\bhref=["']?(?:https?:)?//"""
    r"""|@import\s+(?:url\()?["']?(?:https?:)?//"""
    r"""|url\(["']?(?:https?:)?//""",
    re.I,
)


def test_site_loads_nothing_from_outside(built_site: tuple[Path, str]) -> None:
    site, _ = built_site
    offenders: list[str] = []
    for path in site.rglob("*"):
        if path.suffix not in {".html", ".css", ".js"}:
            continue
        text = path.read_text(errors="replace")
        if "fonts.googleapis" in text or "fonts.gstatic" in text:
            offenders.append(f"{path.relative_to(site)}: Google Fonts")
        if path.suffix == ".js":
            continue  # bundles mention URLs in strings; what a page loads is in its HTML and CSS
        for match in EXTERNAL_RESOURCE.finditer(text):
            offenders.append(f"{path.relative_to(site)}: {match.group(0)[:80]}")
    assert not offenders, offenders


def test_site_renders_in_chromium(built_site: tuple[Path, str], tmp_path: Path) -> None:
    sys.path.insert(0, str(DOCS))
    try:
        import render_check
    finally:
        sys.path.remove(str(DOCS))
    binary = render_check.find_chromium()
    if binary is None:
        if os.environ.get("TYPEDREDIS_REQUIRE_CHROMIUM"):
            pytest.fail("TYPEDREDIS_REQUIRE_CHROMIUM is set but no chromium is installed")
        pytest.skip("chromium is not installed (apt-get install chromium): the render check needs it")
    shots: list[Any] = render_check.check_site(built_site[0], tmp_path, binary)
    assert [shot.name for shot in shots] == ["home.png", "reference.png"]
