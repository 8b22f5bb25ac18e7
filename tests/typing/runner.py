"""A small mypy snippet runner: expected output lives in the checked files as comments.

A marker states one line of mypy output for a line of code::

    expr = User.f.nmae == "ann"  # E: "User" has no field "nmae"  [typedredis-field]
    # error: Field "User.name" holds "str" values;
    #        cannot compare it with "int"  [typedredis-value]
    User.query(User.f.name == 3)

``E``/``error``, ``N``/``note`` and ``W``/``warning`` give the severity. A marker at the end of a
code line belongs to that line; a comment line made of markers belongs to the next code line,
and a comment line indented by two spaces or more right after it continues its message (joined
by one space), so that long messages fit the line length.
Tags in brackets choose the runs a marker applies to (comma separated):

- none: every run with the typedredis plugin (``plugin``, ``plugin+pydantic``, ``pydantic+plugin``)
- ``plain``: only the run without any plugin; ``all``: every run; ``pydantic``: the runs that
  also load ``pydantic.mypy``
- ``mypy>=X`` / ``mypy<X``: only with those mypy versions (combined with the above by "and")

Runs with the plugin must produce exactly the expected lines. The plain run must produce exactly
the expected errors; its notes are compared only on lines that carry a ``plain`` note marker
(``reveal_type`` shows other types there), so every case also proves that plain mypy stays quiet.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

PLUGIN_RUNS = ("plugin", "plugin+pydantic", "pydantic+plugin")
ALL_RUNS = (*PLUGIN_RUNS, "plain")
PLUGINS = {
    "plugin": "typedredis.mypy",
    "plugin+pydantic": "typedredis.mypy, pydantic.mypy",
    "pydantic+plugin": "pydantic.mypy, typedredis.mypy",
    "plain": "",
}
TAG_RUNS = {
    "": PLUGIN_RUNS,
    "plugin": PLUGIN_RUNS,
    "plain": ("plain",),
    "all": ALL_RUNS,
    "pydantic": ("plugin+pydantic", "pydantic+plugin"),
}
SEVERITIES = {
    "E": "error",
    "error": "error",
    "N": "note",
    "note": "note",
    "W": "warning",
    "warning": "warning",
}

MARKER = re.compile(r"#\s*(E|N|W|error|note|warning)(?:\[([^\]]*)\])?:\s?")
OUTPUT = re.compile(r"^(?P<path>.+?):(?P<line>\d+): (?P<severity>error|note|warning): (?P<message>.*)$")


@dataclass(frozen=True)
class Line:
    """One line of mypy output (or of expected output)."""

    line: int
    severity: str
    message: str

    def __str__(self) -> str:
        return f"{self.line}: {self.severity}: {self.message}"


@dataclass(frozen=True)
class Marker:
    """An expected line and the runs (tags) it applies to."""

    expected: Line
    tags: tuple[str, ...]

    def applies(self, run: str, mypy_version: tuple[int, ...]) -> bool:
        """Whether this marker is expected in ``run`` under ``mypy_version``."""
        runs: set[str] = set()
        kinds = [t for t in self.tags if not t.startswith("mypy")]
        for tag in kinds or [""]:
            runs.update(TAG_RUNS[tag])
        return run in runs and all(_version_ok(t, mypy_version) for t in self.tags if t.startswith("mypy"))


def _version_ok(tag: str, version: tuple[int, ...]) -> bool:
    match = re.fullmatch(r"mypy(>=|<)([\d.]+)", tag)
    if match is None:
        raise ValueError(f"bad version tag {tag!r}")
    bound = tuple(int(p) for p in match.group(2).split("."))
    return version >= bound if match.group(1) == ">=" else version < bound


def parse_markers(path: Path) -> list[Marker]:
    """The markers of one file, in file order."""
    markers: list[Marker] = []
    pending: list[tuple[str, str, str]] = []
    for number, text in enumerate(path.read_text().splitlines(), start=1):
        code, _, comment = _split_comment(text)
        found = _markers_in("#" + comment) if comment is not None else []
        if not code.strip():
            if found:
                pending.extend(found)
            elif pending and comment is not None and comment.startswith("  ") and comment.strip():
                severity, tags, message = pending[-1]
                pending[-1] = (severity, tags, f"{message} {comment.strip()}")
            else:
                continue_ok = comment is None or not comment.strip()
                if pending and not continue_ok:
                    raise ValueError(f"{path}:{number}: a comment between a marker and its line")
            continue
        for severity, tags, message in [*pending, *found]:
            tag_list = tuple(t.strip() for t in tags.split(",") if t.strip())
            for tag in tag_list:
                if not tag.startswith("mypy") and tag not in TAG_RUNS:
                    raise ValueError(f"{path}:{number}: unknown tag {tag!r}")
            markers.append(Marker(Line(number, SEVERITIES[severity], message), tag_list))
        pending = []
    if pending:
        raise ValueError(f"{path}: markers at the end of the file belong to no line")
    return markers


def _split_comment(text: str) -> tuple[str, str, str | None]:
    """Split a line at its first ``#`` outside a string literal (good enough for test files)."""
    quote: str | None = None
    for i, char in enumerate(text):
        if quote:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "#":
            return text[:i], "#", text[i + 1 :]
    return text, "", None


def _markers_in(comment: str) -> list[tuple[str, str, str]]:
    found = list(MARKER.finditer(comment))
    result = []
    for i, match in enumerate(found):
        end = found[i + 1].start() if i + 1 < len(found) else len(comment)
        result.append((match.group(1), match.group(2) or "", comment[match.end() : end].rstrip()))
    return result


def expected_lines(path: Path, run: str, mypy_version: tuple[int, ...]) -> list[Line]:
    """The output expected from ``path`` in ``run``."""
    return [m.expected for m in parse_markers(path) if m.applies(run, mypy_version)]


_TYPEVAR_ID = re.compile(r"`-?\d+")
_UNION_OR_OPTIONAL = re.compile(r"\b(Union|Optional)\[")


def normalize(message: str) -> str:
    """Older mypy versions spell types differently (``builtins.list``, ``Union[...]``, ``M`-1``)."""
    message = message.replace("builtins.", "")
    message = _TYPEVAR_ID.sub("", message)
    while (match := _UNION_OR_OPTIONAL.search(message)) is not None:
        items, end = _bracketed_items(message, match.end())
        if end is None:
            break
        if match.group(1) == "Optional":
            items.append("None")
        message = message[: match.start()] + " | ".join(items) + message[end:]
    return message


def _bracketed_items(text: str, start: int) -> tuple[list[str], int | None]:
    """The comma-separated items from ``start`` to the matching ``]``, and the index after it."""
    items: list[str] = []
    depth = 0
    item_start = start
    for i in range(start, len(text)):
        char = text[i]
        if char == "[":
            depth += 1
        elif char == "]" and depth:
            depth -= 1
        elif char == "]":
            items.append(text[item_start:i].strip())
            return items, i + 1
        elif char == "," and not depth:
            items.append(text[item_start:i].strip())
            item_start = i + 1
    return items, None


def compare(path: Path, actual: Sequence[Line], run: str, mypy_version: tuple[int, ...]) -> list[str]:
    """Differences between what ``path`` expects in ``run`` and what mypy said (empty: equal)."""
    markers = [m for m in parse_markers(path) if m.applies(run, mypy_version)]
    expected = [m.expected for m in markers]
    if run == "plain":
        noted = {m.expected.line for m in markers if m.expected.severity == "note"}
        actual = [a for a in actual if a.severity != "note" or a.line in noted]
    got = [Line(a.line, a.severity, normalize(a.message)) for a in actual]
    expected = [Line(e.line, e.severity, normalize(e.message)) for e in expected]
    if got == expected:
        return []
    lines = [f"{path.name} [{run}, mypy {'.'.join(map(str, mypy_version))}]:"]
    lines += [f"  missing:    {e}" for e in expected if e not in got]
    lines += [f"  unexpected: {g}" for g in got if g not in expected]
    if not lines[1:]:
        lines.append("  same lines in another order: " + "; ".join(map(str, got)))
    return lines


@dataclass
class Result:
    """What one mypy run printed, grouped by file."""

    stdout: str
    stderr: str
    returncode: int
    by_file: dict[Path, list[Line]] = field(default_factory=dict)

    def lines(self, path: Path) -> list[Line]:
        """The output lines about ``path``."""
        return self.by_file.get(path.resolve(), [])


def _package_dir() -> Path:
    """A directory that holds only a link to this source tree's package, for MYPYPATH."""
    directory = Path(tempfile.gettempdir()) / f"typedredis-mypypath-{os.getuid()}-{_tree_id()}"
    link = directory / "typedredis"
    if not link.exists():
        directory.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            link.symlink_to(REPO / "typedredis", target_is_directory=True)
    return directory


def _tree_id() -> str:
    return hashlib.sha256(str(REPO).encode()).hexdigest()[:12]


def mypy_python() -> str:
    """The interpreter that runs mypy: ``TYPEDREDIS_TYPING_PYTHON`` (e.g. another mypy's venv)."""
    return os.environ.get("TYPEDREDIS_TYPING_PYTHON") or sys.executable


def mypy_version() -> tuple[int, ...]:
    """The version of the mypy that `run_mypy` uses."""
    out = subprocess.run(
        [mypy_python(), "-m", "mypy", "--version"], capture_output=True, text=True, check=True
    ).stdout
    match = re.search(r"mypy (\d+)\.(\d+)(?:\.(\d+))?", out)
    if match is None:
        raise RuntimeError(f"cannot read the mypy version from {out!r}")
    return tuple(int(p) for p in match.groups() if p is not None)


def write_config(directory: Path, run: str, extra: str = "") -> Path:
    """A mypy.ini for ``run``: strict, typedredis found in this source tree, its own errors silent."""
    plugins = PLUGINS[run]
    text = "[mypy]\nstrict = True\n"
    if plugins:
        text += f"plugins = {plugins}\n"
    text += extra
    if "pydantic" in plugins:
        text += "\n[pydantic-mypy]\ninit_typed = True\ninit_forbid_extra = True\n"
    # typedredis (and its use of redis) is checked by the package's own mypy run; here only the
    # snippets count, and skipping redis's sources makes each run about a third faster.
    text += "\n[mypy-typedredis.*]\nfollow_imports = silent\n"
    text += "\n[mypy-redis.*]\nfollow_imports = skip\n"
    path = directory / "mypy.ini"
    path.write_text(text)
    return path


def run_mypy(
    files: Iterable[Path],
    *,
    config: Path,
    cache_dir: Path,
    cwd: Path,
    extra_args: Sequence[str] = (),
) -> Result:
    """Run mypy once over ``files`` in a subprocess (the package is found through MYPYPATH).

    The source tree goes on PYTHONPATH and (as a directory holding only a link to the package)
    on MYPYPATH, so neither mypy's plugin loader nor its module finder depends on how, or
    whether, typedredis is installed. MYPYPATH must not hold the repository itself: mypy would
    then name the snippet files ``tests.typing.cases.<name>`` instead of ``<name>``; with
    ``--explicit-package-bases`` each file is named after its path below its own directory.
    """
    files = [Path(f).resolve() for f in files]
    bases = dict.fromkeys([_package_dir(), *(f.parent for f in files)])
    env = dict(os.environ)
    env["MYPYPATH"] = os.pathsep.join(map(str, bases))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    env.pop("MYPY_FORCE_COLOR", None)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    cmd = [
        mypy_python(),
        "-m",
        "mypy",
        "--config-file",
        str(config),
        "--cache-dir",
        str(cache_dir),
        "--no-error-summary",
        "--hide-error-context",
        "--no-pretty",
        "--show-error-codes",
        "--explicit-package-bases",
        *extra_args,
        *(str(f) for f in files),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=env, timeout=600)
    result = Result(proc.stdout, proc.stderr, proc.returncode)
    for text in proc.stdout.splitlines():
        match = OUTPUT.match(text)
        if match is None:
            continue
        path = (cwd / match.group("path")).resolve()
        result.by_file.setdefault(path, []).append(
            Line(int(match.group("line")), match.group("severity"), match.group("message"))
        )
    if proc.returncode not in (0, 1) or ("Traceback" in proc.stderr):
        raise RuntimeError(f"mypy crashed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return result
