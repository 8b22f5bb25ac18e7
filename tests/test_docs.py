"""The documentation site: every example runs and prints what the page says, and the site builds.

- Every ``docs/examples/**/*.py`` defines ``main(url)``; each runs against an empty private
  redis-server, and its stdout must equal its ``#>`` comments, line for line (a comment line
  ending in `` ...`` only has to be a prefix of the printed line).
- An example prints only text that typedredis owns: never an exception of another library, nor
  the text of one (redis-py's or pydantic's message, also as embedded in typedredis' own
  message) outside the part of a line that a `` ...`` comment leaves unchecked.
- ``docs/examples/howto/testing/`` is a small pytest project: it runs as one.
- Every example file is included by a page, and pages show Python only from example files.
- ``mkdocs build --strict`` passes, and the built site loads nothing from outside.
- The built site renders in headless Chromium (docs/render_check.py); skipped only where no
  ``chromium`` is installed, unless TYPEDREDIS_REQUIRE_CHROMIUM=1 (CI) turns that into a failure.

``docs/examples/typing/`` belongs to the type-checking page and is checked by tests/typing.
"""

from __future__ import annotations

import builtins
import difflib
import importlib.util
import os
import re
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pydantic
import pytest
import redis
from pydantic import ValidationError
from redis.backoff import NoBackoff
from redis.retry import Retry

from typedredis import Unavailable
from typedredis.testing import RedisCluster, RedisServer, binary_version, find_server_binary

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
EXAMPLES = DOCS / "examples"
NOT_OURS = (EXAMPLES / "typing",)
"""Examples of the type-checking page: mypy runs them (tests/typing), not this file."""
PYTEST_PROJECTS = (EXAMPLES / "howto" / "testing",)
"""Example directories that are pytest projects of their own (conftest.py, test_*.py)."""
FOREIGN = {EXAMPLES / "howto" / "indexedredis_before.py": "IndexedRedis"}
"""Examples written for another library (the module they need): run only where it is installed."""
CLUSTER = (EXAMPLES / "howto" / "scaling_out.py",)
"""Examples that run against a private local Redis Cluster (three primaries) instead."""


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


@pytest.fixture(scope="module")
def local_cluster() -> Iterator[RedisCluster]:
    """A private local Redis Cluster for the examples of the Scaling out page."""
    binary = find_server_binary()
    if binary is None or binary_version(binary) < (7,):
        pytest.skip("a local Redis Cluster needs redis-server 7.0 or later")
    with RedisCluster(primaries=3) as cluster:
        yield cluster


@pytest.mark.parametrize("path", RUNNABLE, ids=[str(p.relative_to(EXAMPLES)) for p in RUNNABLE])
def test_example_prints_what_its_comments_say(
    path: Path,
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if path in CLUSTER:
        cluster: RedisCluster = request.getfixturevalue("local_cluster")
        cluster.flush()
        url = cluster.url
    else:
        url = request.getfixturevalue("empty_server")
    module = load(path)
    assert callable(getattr(module, "main", None)), f"{path.name} must define main(url: str)"
    capsys.readouterr()
    watch = PrintWatch(builtins.print)
    with monkeypatch.context() as patch:
        patch.setattr(builtins, "print", watch)
        module.main(url)
    printed = capsys.readouterr().out.splitlines()
    expected = expected_output(path)
    assert matches(printed, expected), f"{path.name}: the output differs from its #> comments"
    problems = watch.problems + foreign_text(printed, expected, watch.foreign)
    assert not problems, f"{path.name} prints what another library owns: {problems}"


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


# -- examples print only what typedredis owns ---------------------------------------------------
#
# Another library's messages change between its releases (redis-py 8.2 reworded its timeout
# error), so an example that prints one breaks on an upgrade that changes nothing of
# typedredis. An example may print the name of another library's exception class, or an
# isinstance() fact, but not its text: neither the exception itself, nor its str() copied into
# a string, nor typedredis' own message where it embeds that text, unless the example's comment
# ends with " ..." before the embedded part.

FOREIGN_OVERLAP = 16
"""A run of this many characters (or a whole foreign text of 8 or more) shared by a printed
line and another library's exception text counts as printing that text."""


def _ours(exc: BaseException) -> bool:
    module = type(exc).__module__
    return module == "typedredis" or module.startswith("typedredis.")


def foreign_texts(exc: BaseException | None) -> set[str]:
    """The texts of the other libraries' exceptions in ``exc`` and its ``__cause__`` /
    ``__context__`` chain (a typedredis error chains redis-py's or pydantic's)."""
    texts: set[str] = set()
    seen: set[int] = set()
    stack = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if not _ours(current) and str(current).strip():
            texts.add(str(current).strip())
        stack += [current.__cause__, current.__context__]
        if isinstance(current, BaseExceptionGroup):
            stack += current.exceptions
    return texts


class PrintWatch:
    """Stands in for ``print`` while an example runs and remembers the exceptions it saw.

    Printing an exception of another library is a problem at once. The foreign texts of every
    exception printed, and of every exception being handled when ``print`` is called (an
    ``except`` block's), are kept for `foreign_text`, which checks the printed lines.
    """

    def __init__(self, real: Callable[..., None]) -> None:
        self.real = real
        self.problems: list[str] = []
        self.foreign: set[str] = set()

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        for arg in args:
            if isinstance(arg, BaseException):
                if not _ours(arg):
                    kind = type(arg)
                    self.problems.append(f"prints an exception of {kind.__module__}.{kind.__qualname__}")
                self.foreign |= foreign_texts(arg)
        self.foreign |= foreign_texts(sys.exc_info()[1])
        self.real(*args, **kwargs)


def foreign_text(printed: list[str], expected: list[str], foreign: set[str]) -> list[str]:
    """The printed lines whose checked part (all of it, or what a `` ...`` comment compares)
    shares a run of characters with another library's exception text."""
    problems: list[str] = []
    for index, line in enumerate(printed):
        want = expected[index] if index < len(expected) else line
        checked = want[:-4] if want.endswith(" ...") and line.startswith(want[:-4]) else line
        for text in foreign:
            if len(text) < 8:
                continue  # too short to tell a copy from a coincidence
            match = difflib.SequenceMatcher(None, checked, text, autojunk=False).find_longest_match(
                0, len(checked), 0, len(text)
            )
            if match.size >= min(FOREIGN_OVERLAP, len(text)):
                shared = checked[match.a : match.a + match.size]
                problems.append(f"line {index + 1} {line!r} shows another library's text {shared!r}")
                break
    return problems


def _unavailable(tmp_path: Path) -> Unavailable:
    """An `Unavailable` as typedredis raises it: redis-py's real error chained, its text embedded."""
    dead = redis.Redis(unix_socket_path=str(tmp_path / "nobody.sock"), retry=Retry(NoBackoff(), 0))
    try:
        dead.ping()
    except (redis.ConnectionError, OSError) as cause:
        error = Unavailable(f"cannot reach Redis ({cause}); nothing was sent")
        error.__cause__ = cause
        return error
    finally:
        dead.close()
    raise AssertionError("a ping of a socket nobody listens on succeeded")


def _invalid() -> ValidationError:
    try:
        pydantic.TypeAdapter(int).validate_python("eighteen-fifteen")
    except ValidationError as error:
        return error
    raise AssertionError("'eighteen-fifteen' validated as an int")


PRINTS: dict[str, tuple[Callable[[Any], None], list[str] | None, bool]] = {
    # what the example does with the exception it handles: (how, its #> comments, flagged?)
    # (None: comments copied from the output, as an author would do when the test fails)
    "the cause itself": (lambda e: print(type(e.__cause__).__name__, e.__cause__), None, True),
    "the cause's text": (lambda e: print(f"because: {e.__cause__}"), None, True),
    "our message, all of it": (lambda e: print(e), None, True),
    "our message, up to the cause": (lambda e: print(e), ["cannot reach Redis ..."], False),
    "class names and facts": (
        lambda e: print(type(e).__name__, isinstance(e, ConnectionError), e.__cause__ is not None),
        ["Unavailable True True"],
        False,
    ),
    "pydantic's message": (lambda e: print(e.errors()[0]["msg"]), None, True),
    "pydantic's error code": (lambda e: print(e.errors()[0]["type"]), ["int_parsing"], False),
}


@pytest.mark.parametrize("case", list(PRINTS))
def test_printing_another_librarys_text_is_caught(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    how, comments, flagged = PRINTS[case]
    error: BaseException = _invalid() if "pydantic" in case else _unavailable(tmp_path)
    capsys.readouterr()
    watch = PrintWatch(builtins.print)
    with monkeypatch.context() as patch:
        patch.setattr(builtins, "print", watch)
        try:
            raise error
        except (Unavailable, ValidationError) as exc:
            how(exc)
    printed = capsys.readouterr().out.splitlines()
    expected = printed if comments is None else comments
    assert matches(printed, expected)  # the output check alone would pass
    problems = watch.problems + foreign_text(printed, expected, watch.foreign)
    assert bool(problems) == flagged, problems


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


INSTALL_BY_NAME = re.compile(r"""pip install\s+(?:-\S+\s+)*["']?typedredis(?:\[[^\]]*\])?["']?(?![\w/.-])""")
CHECKOUT_INSTALL = ("pip install .", 'pip install ".[', "pip install -e .", "pip install /path/to/checkout")


def test_pages_install_from_a_checkout_until_a_release_exists() -> None:
    """typedredis is not on PyPI: ``pip install typedredis`` fails, or installs someone else's
    package. No page may say it (relax this once a release exists), and the install page and
    the README say how to install from a checkout."""
    by_name = [
        f"{page.relative_to(ROOT)}: {match.group(0)}"
        for page in [*_pages(), ROOT / "README.md"]
        for match in INSTALL_BY_NAME.finditer(page.read_text())
    ]
    assert not by_name, f"pages that install typedredis by name, from an index: {by_name}"
    for page in (DOCS / "tutorial" / "install.md", ROOT / "README.md"):
        text = page.read_text()
        assert "checkout" in text and any(command in text for command in CHECKOUT_INSTALL), page


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
