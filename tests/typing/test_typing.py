"""The typing suite: mypy with and without the typedredis plugin, on the case corpus and the docs.

Every mypy run starts from a fresh cache and runs in its own subprocess; the runs go in parallel
(one per core) as soon as the first test asks for them. ``TYPEDREDIS_TYPING_PYTHON`` selects
another interpreter to run mypy with, e.g. the oldest supported mypy::

    python -m venv /tmp/mypy-oldest
    /tmp/mypy-oldest/bin/pip install "mypy==1.15.0" pydantic redis msgpack typing-extensions
    TYPEDREDIS_TYPING_PYTHON=/tmp/mypy-oldest/bin/python python -m pytest tests/typing

(typedredis itself comes from this source tree, through PYTHONPATH and MYPYPATH.)
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .runner import (
    ALL_RUNS,
    REPO,
    Line,
    Result,
    compare,
    mypy_version,
    parse_markers,
    run_mypy,
    write_config,
)

pytestmark = pytest.mark.slow

CASES = Path(__file__).parent / "cases"
CASE_FILES = sorted(CASES.glob("*.py"))
DOCS = REPO / "docs" / "examples" / "typing"
DOC_FILES = sorted(DOCS.glob("*.py"))
DOC_CONFIGS = ("mypy.ini", "pyproject.toml")
INCREMENTAL = Path(__file__).parent / "incremental"


@dataclass
class Jobs:
    """The mypy runs of this session, started together in the background."""

    version: tuple[int, ...]
    futures: dict[str, Future[Any]]

    def get(self, name: str) -> Any:
        """The outcome of job ``name`` (waits for it)."""
        return self.futures[name].result()


@pytest.fixture(scope="session")
def jobs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Jobs]:
    version = mypy_version()
    pool = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2))
    futures: dict[str, Future[Any]] = {}

    def submit(name: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        futures[name] = pool.submit(fn, *args, **kwargs)

    # Slowest first: the incremental scenarios run mypy four and three times in a row.
    submit("incremental", incremental_scenario, tmp_path_factory.mktemp("incremental"))
    submit("incremental-compound", compound_scenario, tmp_path_factory.mktemp("incremental-compound"))
    for run in ALL_RUNS:
        work = tmp_path_factory.mktemp(run.replace("+", "-"))
        config = write_config(work, run)
        submit(run, run_mypy, CASE_FILES, config=config, cache_dir=work / "cache", cwd=work)
    for name in DOC_CONFIGS:
        work = tmp_path_factory.mktemp("docs")
        config = DOCS / name
        submit(f"docs:{name}", run_mypy, DOC_FILES, config=config, cache_dir=work / "cache", cwd=work)
    work = tmp_path_factory.mktemp("silenced")
    codes = "typedredis-field, typedredis-index, typedredis-value, typedredis-query"
    config = write_config(work, "plugin", f"disable_error_code = {codes}\n")
    submit("silenced", run_mypy, CASE_FILES, config=config, cache_dir=work / "cache", cwd=work)
    yield Jobs(version, futures)
    pool.shutdown(wait=True, cancel_futures=True)


# -- the case corpus ----------------------------------------------------------------------------


def test_corpus_is_large_and_mixed() -> None:
    failing = [p for p in CASE_FILES if any(m.expected.severity == "error" for m in parse_markers(p))]
    passing = [p for p in CASE_FILES if p not in failing and p.name != "models.py"]
    assert len(CASE_FILES) - 1 >= 40, "the issue asks for at least 40 typing cases"
    assert len(failing) >= 15 and len(passing) >= 15


@pytest.mark.parametrize("run", ALL_RUNS)
@pytest.mark.parametrize("case", CASE_FILES, ids=[p.stem for p in CASE_FILES])
def test_case(jobs: Jobs, case: Path, run: str) -> None:
    result: Result = jobs.get(run)
    problems = compare(case, result.lines(case), run, jobs.version)
    assert not problems, "\n".join(problems) + f"\n--- whole output ---\n{result.stdout}"


def test_plain_mypy_is_quiet_on_passing_cases(jobs: Jobs) -> None:
    """Without the plugin, correct code gets no errors (the failing cases are covered per line)."""
    result: Result = jobs.get("plain")
    for case in CASE_FILES:
        markers = parse_markers(case)
        if any(m.expected.severity == "error" for m in markers):
            continue
        errors = [line for line in result.lines(case) if line.severity == "error"]
        assert not errors, f"{case.name}: {errors}"


def test_plugin_order_does_not_matter(jobs: Jobs) -> None:
    first: Result = jobs.get("plugin+pydantic")
    second: Result = jobs.get("pydantic+plugin")
    assert first.stdout == second.stdout


def test_error_codes_can_be_disabled(jobs: Jobs) -> None:
    """``disable_error_code`` accepts the plugin's codes and silences exactly those errors.

    mypy reads plugin error codes in its options only since 1.19 (python/mypy#19719); older
    versions refuse them as "Invalid error code(s)" (``# type: ignore[code]`` works in all).
    """
    if jobs.version < (1, 19):
        pytest.skip("mypy < 1.19 cannot disable a plugin's error codes in its configuration")
    silenced: Result = jobs.get("silenced")
    plugin: Result = jobs.get("plugin")
    assert "typedredis-" not in silenced.stdout
    assert "Invalid error code" not in silenced.stdout + silenced.stderr

    def others(result: Result) -> list[tuple[str, Line]]:
        return [
            (path.name, line)
            for path in CASE_FILES
            for line in result.lines(path)
            if line.severity == "error" and "[typedredis-" not in line.message
        ]

    assert others(silenced) == others(plugin)


# -- the docs' examples ---------------------------------------------------------------------


def test_docs_examples_exist_and_are_on_the_page() -> None:
    assert len(DOC_FILES) >= 4
    for name in DOC_CONFIGS:
        assert "typedredis.mypy" in (DOCS / name).read_text()
    page = (REPO / "docs" / "how-to" / "type-checking.md").read_text()
    included = set(re.findall(r'--8<--\s+"([^"]+)"', page))
    shown = {str(p.relative_to(REPO)) for p in DOC_FILES} | {f"docs/examples/typing/{n}" for n in DOC_CONFIGS}
    assert shown <= included, f"not on the page: {sorted(shown - included)}"


@pytest.mark.parametrize("config", DOC_CONFIGS)
@pytest.mark.parametrize("example", DOC_FILES, ids=[p.stem for p in DOC_FILES])
def test_docs_example(jobs: Jobs, example: Path, config: str) -> None:
    """The page's examples say exactly what mypy says, under both documented configurations."""
    result: Result = jobs.get(f"docs:{config}")
    problems = compare(example, result.lines(example), "plugin+pydantic", jobs.version)
    assert not problems, "\n".join(problems) + f"\n--- whole output ---\n{result.stdout}"


# -- incremental mode -------------------------------------------------------------------------


@dataclass
class Incremental:
    """Outputs of the incremental scenario, keyed by step."""

    first: Result
    second: Result
    second_log: str
    edited: Result
    fresh_edited: Result
    queries: Path


def incremental_scenario(work: Path) -> Incremental:
    """Check twice with one cache, edit only an index marker in models.py, check again."""
    project = work / "project"
    shutil.copytree(INCREMENTAL, project)
    config = write_config(work, "plugin+pydantic")
    cache = work / "cache"
    files = [project / "models.py", project / "queries.py"]
    first = run_mypy(files, config=config, cache_dir=cache, cwd=project)
    second = run_mypy(files, config=config, cache_dir=cache, cwd=project, extra_args=["--verbose"])
    models = project / "models.py"
    text = models.read_text()
    edited_text = (
        text.replace("name: Indexed[str]", "name: str")
        .replace("bio: str", "bio: Indexed[str]")
        .replace("age: Indexed[int]", "age: Sorted[int]")
        .replace("import Indexed, Model", "import Indexed, Model, Sorted")
    )
    assert edited_text.count("Sorted") == 2
    models.write_text(edited_text)
    edited = run_mypy(files, config=config, cache_dir=cache, cwd=project)
    fresh_edited = run_mypy(files, config=config, cache_dir=work / "fresh-cache", cwd=project)
    return Incremental(first, second, second.stderr, edited, fresh_edited, project / "queries.py")


def test_incremental_cache(jobs: Jobs) -> None:
    runs: Incremental = jobs.get("incremental")
    queries = runs.queries
    before = runs.first.lines(queries)
    # Same output from the cache, and the cache really was used for the dependent module.
    assert runs.second.lines(queries) == before
    assert runs.second.stdout == runs.first.stdout
    assert "Metadata fresh for models" in runs.second_log
    if jobs.version >= (2,):
        # mypy 2 also caches modules that have errors (older versions always re-check them).
        assert "Metadata fresh for queries" in runs.second_log
    assert [line.message for line in before] == [
        '"User.bio" is not indexed; annotate it as "bio: Indexed[...]" to query it  [typedredis-index]',
        # (mypy sorts by column: the order_by call starts before the comparison in it)
        '"User.age" has no range index; annotate it as "age: Sorted[...]" to order by it  [typedredis-index]',
        '"User.age" has no range index; annotate it as "age: Sorted[...]" to use ">=" on it'
        "  [typedredis-index]",
    ]
    # Only markers changed in models.py (Indexed -> none, none -> Indexed, Indexed -> Sorted):
    # queries.py was re-checked and its errors changed.
    after = runs.edited.lines(queries)
    assert [line.message for line in after] == [
        '"User.name" is not indexed; annotate it as "name: Indexed[...]" to query it  [typedredis-index]'
    ]
    assert runs.edited.stdout == runs.fresh_edited.stdout


COMPOUND_MODELS = """\
from typing import Any, ClassVar

from typedredis import Compound, Indexed, Model, Sorted


class Order(Model):
    customer: Indexed[str]
    status: Indexed[str]
    amount: Sorted[int]
    __indexes__: ClassVar[Any] = (Compound("status", "amount"),)
"""
COMPOUND_SUBCLASSES = """\
from models import Order


class Draft(Order):
    customer: str = ""
"""


@dataclass
class CompoundIncremental:
    """Outputs of the compound-index scenario: before and after an edit of ``__indexes__`` only."""

    first: Result
    edited: Result
    fresh_edited: Result
    subclasses: Path


def compound_scenario(work: Path) -> CompoundIncremental:
    """A subclass in another module inherits ``__indexes__``; only the base's declaration changes."""
    project = work / "project"
    project.mkdir()
    models = project / "models.py"
    models.write_text(COMPOUND_MODELS)
    subclasses = project / "subclasses.py"
    subclasses.write_text(COMPOUND_SUBCLASSES)
    config = write_config(work, "plugin+pydantic")
    cache = work / "cache"
    files = [models, subclasses]
    first = run_mypy(files, config=config, cache_dir=cache, cwd=project)
    edited_text = COMPOUND_MODELS.replace('Compound("status", "amount")', 'Compound("customer", "amount")')
    assert edited_text != COMPOUND_MODELS
    models.write_text(edited_text)
    edited = run_mypy(files, config=config, cache_dir=cache, cwd=project)
    fresh_edited = run_mypy(files, config=config, cache_dir=work / "fresh-cache", cwd=project)
    return CompoundIncremental(first, edited, fresh_edited, subclasses)


def test_incremental_compound_indexes(jobs: Jobs) -> None:
    """The compound indexes a model declares are part of its module's interface: a subclass
    elsewhere that re-declares a field they use is re-checked when only ``__indexes__`` changes."""
    runs: CompoundIncremental = jobs.get("incremental-compound")
    assert runs.first.stdout == ""
    assert [str(line) for line in runs.edited.lines(runs.subclasses)] == [
        '5: error: "Draft.customer" is not indexed, but the compound index "customer_amount" inherited '
        'from "Order" uses it; annotate it as "customer: Indexed[...]", or redeclare __indexes__'
        "  [typedredis-index]"
    ]
    assert runs.edited.stdout == runs.fresh_edited.stdout


# -- the plugin object ------------------------------------------------------------------------


def test_plugin_entry_point_and_cache_key() -> None:
    mypy_options = pytest.importorskip("mypy.options")
    from typedredis import mypy as plugin_module

    plugin_class = plugin_module.plugin("2.4.1")
    assert plugin_class is plugin_module.TypedRedisPlugin
    data = plugin_class(mypy_options.Options()).report_config_data(None)  # type: ignore[arg-type]
    assert data == {"typedredis-plugin": plugin_module.PLUGIN_VERSION}
