"""The ``typedredis`` command: operations on a deployed model, from a shell or a deploy job.

    typedredis reindex MODULE:Model      build indexes online (resumable), remove dropped ones
    typedredis reindex --migrate MODULE:Model
                                         then rewrite objects stored in an older form
    typedredis check MODULE:Model        audit stored data against indexes (exit 1: problems)
    typedredis check --schema MODULE:Model
                                         exit 1 when the code's indexes are not all ready
    typedredis repair MODULE:Model       fix what check finds (rebuilds indexes online)
    typedredis stats MODULE:Model        objects, memory, index states, schema
    typedredis demo                      (also: python -m typedredis demo)

Each finds its server with ``--url``, else ``TYPEDREDIS_URL``, and imports ``MODULE`` as
``python -m`` would (the current directory first on the path). Exit status: 0 done, 1 the
check failed or the work could not be done (the message says why), 2 a usage error.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO, TypeVar

from .audit import MAX_PROBLEMS, Audit
from .errors import TypedRedisError
from .model import Model
from .plan import Operation
from .reindex import ReindexReport
from .status import Status

T = TypeVar("T")

SHOWN = 20
"""Problems printed (``--json`` prints them all, up to `MAX_PROBLEMS`)."""

URL_VARIABLE = "TYPEDREDIS_URL"


class UsageError(Exception):
    """A command line that cannot run: exit status 2, with this message."""


def load_model(target: str) -> type[Model]:
    """The model named ``MODULE:Model`` (``Model`` may be dotted: ``Outer.Inner``)."""
    module_name, _, name = target.partition(":")
    if not module_name or not name:
        raise UsageError(f"{target!r}: name a model as MODULE:Model, e.g. myapp.models:Order")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        found: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(f"cannot import {module_name!r}: {exc}") from exc
    for part in name.split("."):
        found = getattr(found, part, None)
        if found is None:
            raise UsageError(f"{module_name!r} has no {name!r}")
    if not (isinstance(found, type) and issubclass(found, Model)):
        raise UsageError(f"{target} is not a typedredis Model")
    return found


def connect_model(model: type[Model], url: str | None, cluster: bool = False) -> None:
    """Bind ``model`` to the server of ``--url`` or ``TYPEDREDIS_URL`` (a node of a Redis
    Cluster with ``--cluster``)."""
    from .connection import connect

    url = url or os.environ.get(URL_VARIABLE)
    if not url:
        raise UsageError(f"no server: pass --url redis://HOST:PORT/DB or set {URL_VARIABLE}")
    connect(url, model, cluster=cluster)


class Progress:
    """A progress line on a terminal (rewritten in place); nothing otherwise."""

    def __init__(self, label: str, stream: TextIO) -> None:
        self.label, self.stream = label, stream
        self.shown = stream.isatty()
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        """Show ``done`` of ``total`` (at most ten times a second)."""
        now = time.monotonic()
        if not self.shown or now - self.last < 0.1:
            return
        self.last = now
        share = f" ({100 * done / total:.1f} %)" if total else ""
        self.stream.write(f"\r{self.label}: {done:,} of {total:,} objects{share}")
        self.stream.flush()

    def close(self) -> None:
        """End the progress line."""
        if self.shown and self.last:
            self.stream.write("\n")


def reindex_command(model: type[Model], as_json: bool, migrate: bool) -> int:
    """``typedredis reindex``: `Model.reindex`, with a progress line on a terminal."""
    progress = Progress(f"reindex {model.__qualname__}", sys.stderr)
    start = time.monotonic()
    try:
        report = model.reindex(progress=progress, migrate=migrate)
    finally:
        progress.close()
    seconds = time.monotonic() - start
    if as_json:
        print(json.dumps({"model": model.__qualname__, **_report(report), "seconds": round(seconds, 3)}))
    else:
        print(_describe(model, report, seconds))
        if migrate:
            print(f"{model.__qualname__}: {report.migrated:,} objects rewritten in the form the code writes")
    return 0


def _report(report: ReindexReport) -> dict[str, Any]:
    return {name: getattr(report, name) for name in report.__slots__}


def _describe(model: type[Model], report: ReindexReport, seconds: float) -> str:
    name = model.__qualname__
    if not report.built and not report.removed:
        return f"{name}: every index is ready; nothing to do"
    parts = []
    if report.built:
        parts.append(f"built {', '.join(report.built)}")
    if report.removed:
        parts.append(f"removed {', '.join(report.removed)}")
    return (
        f"{name}: {'; '.join(parts)} ({report.indexed:,} objects indexed, {report.skipped:,} "
        f"changed meanwhile by writers that indexed them) in {seconds:.1f} s"
    )


def _status(model: type[Model]) -> Status:
    from .status import status

    return model._sync("stats").run(status(model.spec()))


def stats_command(model: type[Model], as_json: bool) -> int:
    """``typedredis stats``: the model's `Status`."""
    found = _status(model)
    if as_json:
        print(json.dumps(found.as_dict()))
        return 0
    size = "-" if found.bytes_per_object is None else f"{found.bytes_per_object:,.0f} bytes"
    print(f"{found.model}: generation {found.generation}, {found.objects:,} objects, {size} per object")
    print(f"index keys: {found.index_keys:,}")
    _print_indexes(found)
    return 0


def check_command(model: type[Model], schema: bool, as_json: bool) -> int:
    """``typedredis check``: 1 when the audit finds a problem (``--schema``: when the code's
    indexes are not all ready)."""
    if not schema:
        return _audit_command(model, as_json)
    found = _status(model)
    if as_json:
        print(json.dumps(found.as_dict()))
    else:
        _print_indexes(found)
        if found.schema_ok:
            print(f"{found.model}: the server's indexes match the code")
        else:
            target = f"{model.__module__}:{model.__qualname__}"
            print(f"{found.model}: the server's indexes differ from the code: typedredis reindex {target}")
    return 0 if found.schema_ok else 1


def _with_progress(model: type[Model], verb: str, operation: Callable[[Progress], Operation[T]]) -> T:
    """Run ``operation(progress)`` on the model's client, with a progress line on a terminal."""
    progress = Progress(f"{verb} {model.__qualname__}", sys.stderr)
    try:
        return model._sync(verb).run(operation(progress))
    finally:
        progress.close()


def _audit_command(model: type[Model], as_json: bool) -> int:
    from .audit import audit

    found = _with_progress(model, "check", lambda progress: audit(model.spec(), progress))
    if as_json:
        print(json.dumps(found.as_dict()))
    else:
        _print_audit(found)
    return 0 if found.ok else 1


def _print_audit(found: Audit) -> None:
    for problem in found.problems[:SHOWN]:
        where = f" ({problem.index})" if problem.index else ""
        print(f"  {problem.kind}{where}: {problem.key} {problem.detail}".rstrip())
    if found.count > SHOWN:
        print(f"  ... and {found.count - SHOWN:,} more (--json lists {min(found.count, MAX_PROBLEMS):,})")
    if found.ok:
        print(f"{found.model}: {found.objects:,} objects and their indexes agree")
    else:
        indexes = ", ".join(found.indexes) or "none"
        print(f"{found.model}: {found.count:,} problems; indexes affected: {indexes}")
        print("typedredis repair fixes them (it rebuilds the indexes affected online)")


def repair_command(model: type[Model], as_json: bool) -> int:
    """``typedredis repair``: fix what the audit finds (rebuilding indexes online)."""
    from .audit import repair

    done = _with_progress(model, "repair", lambda progress: repair(model.spec(), progress))
    if as_json:
        out = {"deleted": list(done.deleted), "rebuilt": _report(done.rebuilt), "after": done.after.as_dict()}
        print(json.dumps(out))
    else:
        if done.deleted:
            print(f"deleted {len(done.deleted):,} objects whose hash was gone (evicted?)")
        print(_describe(model, done.rebuilt, 0.0).rsplit(" in ", 1)[0])
        _print_audit(done.after)
    return 0 if done.after.ok else 1


def _print_indexes(found: Status) -> None:
    if not found.recorded:
        print("indexes: not recorded (no writer recorded any in this generation): served as stored")
    for index in found.indexes:
        code = "not declared" if index.code is None else (index.code or "compound")
        record = index.record or "not recorded"
        print(f"  {index.name:<24} code: {code:<14} server: {record:<20} {'ok' if index.ok else 'DIFFERS'}")
    if found.job:
        print(f"a reindex job is in progress (or was interrupted): {found.job}")


def parser() -> argparse.ArgumentParser:
    """The command line's parser."""
    top = argparse.ArgumentParser(prog="typedredis", description="Operations on typedredis models.")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("demo", help="run the demo against a private redis-server")
    helps = {
        "reindex": "build the model's new or changed indexes online (resumable)",
        "check": "audit the stored data against its indexes (read-only); exit 1 on a problem",
        "repair": "fix what check finds: rebuild the affected indexes online",
        "stats": "objects, memory per object, index states",
    }
    for name, text in helps.items():
        command = commands.add_parser(name, help=text, description=text)
        command.add_argument("model", metavar="MODULE:Model", help="e.g. myapp.models:Order")
        command.add_argument("--url", help=f"the server (default: ${URL_VARIABLE})")
        command.add_argument("--cluster", action="store_true", help="the server is a node of a Redis Cluster")
        command.add_argument("--json", action="store_true", help="print JSON")
        if name == "reindex":
            what = "then rewrite each object stored in an older form (migration hooks, removed fields)"
            command.add_argument("--migrate", action="store_true", help=what)
        if name == "check":
            what = "compare the code's indexes with the server's records only"
            command.add_argument("--schema", action="store_true", help=what)
    return top


def main(argv: list[str] | None = None) -> int:
    """Run the command of ``argv`` (default: the process's arguments); its exit status."""
    args = parser().parse_args(argv)
    if args.command == "demo":
        from .demo import main as demo

        demo()
        return 0
    try:
        model = load_model(args.model)
        connect_model(model, args.url, args.cluster)
        if args.command == "reindex":
            return reindex_command(model, args.json, args.migrate)
        if args.command == "stats":
            return stats_command(model, args.json)
        if args.command == "repair":
            return repair_command(model, args.json)
        return check_command(model, args.schema, args.json)
    except UsageError as exc:
        print(f"typedredis {args.command}: {exc}", file=sys.stderr)
        return 2
    except TypedRedisError as exc:
        print(f"typedredis {args.command}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
