"""The ACLs on the Failure modes page: the command list cannot drift from the scripts, and a
user with exactly that list (or the simple form) can run every kind of call.

- The minimal ACL printed on docs/explanation/failure-modes.md names exactly the Redis
  commands that typedredis/scripts/*.lua call (parsed from both), plus EVALSHA and EVAL.
- A user created with each ACL line of the page, on a private server, runs a workload that
  goes through every script and every query strategy: nothing is refused, except the
  optional CONFIG GET of the eviction warning (and redis-py's CLIENT SETINFO, which it
  ignores).
"""

from __future__ import annotations

import re
import shlex
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

import typedredis
from typedredis import AlreadyExists, Indexed, Model, Sorted, Unique, audit, model
from typedredis.testing import RedisServer

from .support import key

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "explanation" / "failure-modes.md"
SCRIPTS = Path(typedredis.__file__).resolve().parent / "scripts"

CLIENT_COMMANDS = {"evalsha", "eval"}
"""What typedredis itself sends (besides the optional CONFIG GET and redis-py's handshake)."""
OPTIONAL = {"config|get", "client|setinfo", "config", "client"}
"""Commands the client may be refused without any effect on typedredis (Redis 6.2 logs a
refused subcommand under its command's name)."""
NEWER = {"sintercard": (7,)}
"""Commands a script calls only on servers of at least this version (ACL SETUSER refuses an
unknown command, so the page says to leave them out on older servers)."""


def acl_lines() -> dict[str, list[str]]:
    """The rules of the page's ``ACL SETUSER <user> ...`` lines: {"minimal": [...], "simple": [...]}."""
    lines = [line.strip() for line in PAGE.read_text().splitlines()]
    lines = [line for line in lines if line.startswith("ACL SETUSER ")]
    found = {("minimal" if "-@all" in line else "simple"): shlex.split(line)[3:] for line in lines}
    assert set(found) == {"minimal", "simple"}, f"expected two ACL SETUSER lines on {PAGE.name}: {lines}"
    return found


def page_commands() -> set[str]:
    """The commands the minimal ACL of the page allows (``+name`` rules), without the client's own."""
    rules = acl_lines()["minimal"]
    allowed = {rule[1:].lower() for rule in rules if rule.startswith("+") and not rule.startswith("+@")}
    assert allowed >= CLIENT_COMMANDS, "the minimal ACL must allow EVALSHA and EVAL"
    return allowed - CLIENT_COMMANDS


_CALL = re.compile(r"""redis\.p?call\(\s*(['"])([A-Za-z]+)\1""")
_LITERAL = re.compile(r"""(['"])([A-Z][A-Z0-9]*)\1""")


def script_commands(known: set[str]) -> set[str]:
    """Every Redis command the scripts call, lower case.

    A literal first argument of ``redis.call`` / ``redis.pcall`` is one. The scripts also pass
    command names to helpers (``call_chunked('SADD', ...)``, ``remove_entry(gp, 'SREM', ...)``,
    ``kind == 'u' and 'SUNIONSTORE' or 'SDIFFSTORE'``), so any upper-case string literal that
    names a command the server knows (``known``) counts too; ``'LIMIT'``, ``'XX'`` and the like
    are arguments, not commands.
    """
    found: set[str] = set()
    for path in sorted(SCRIPTS.glob("*.lua")):
        source = "\n".join(line.split("--", 1)[0] for line in path.read_text().splitlines())
        found |= {match.group(2).lower() for match in _CALL.finditer(source)}
        found |= {match.group(2).lower() for match in _LITERAL.finditer(source)} & known
    return found


@pytest.fixture(scope="module")
def server() -> Iterator[RedisServer]:
    with RedisServer() as private:
        yield private


def _known_commands(server: RedisServer) -> set[str]:
    """The names of the commands ``server`` has (COMMAND)."""
    with server.client() as admin:
        return {str(name).lower() for name in admin.command()}


def test_the_minimal_acl_names_exactly_the_commands_the_scripts_call(server: RedisServer) -> None:
    on_page = page_commands()
    in_scripts = script_commands(_known_commands(server))
    assert in_scripts, "no command found in the scripts: the parser is broken"
    assert on_page == in_scripts, (
        f"{PAGE.name} lists commands no script calls: {sorted(on_page - in_scripts)}; "
        f"scripts call commands the page does not list: {sorted(in_scripts - on_page)}"
    )


def test_the_parser_finds_commands_passed_to_helpers(server: RedisServer) -> None:
    found = script_commands(_known_commands(server))
    # never a literal first argument of redis.call: only passed to helpers
    assert {"srem", "sunionstore", "sdiffstore"} <= found
    assert not {"limit", "xx", "oom"} & found


class Order(Model, key=key("aclorder")):
    status: Indexed[str]
    shop: Indexed[int]
    total: Sorted[int]
    seq: Sorted[int]
    ref: Unique[str]
    note: str = ""


def orders(n: int, start: int = 0) -> Iterator[Order]:
    for i in range(start, start + n):
        yield Order(status="open" if i % 10 == 0 else "paid", shop=i % 50, total=i, seq=-i, ref=f"r{i}")


def _rules(server: RedisServer, form: str) -> list[str]:
    """The page's ACL line of ``form`` for this test's model, on this server's version."""
    version = tuple(int(part) for part in server.version.split(".")[:2])
    rules: list[str] = []
    pattern_done = False
    for rule in acl_lines()[form]:
        if rule.startswith("~"):  # the page's example patterns stand for the model's own
            if not pattern_done:
                rules.append("~{" + Order.spec().keys.name + "}*")
                pattern_done = True
            continue
        if rule.startswith(">"):
            rules.append(">secret")
            continue
        if rule.startswith("+") and version < NEWER.get(rule[1:].lower(), (0,)):
            continue  # the page: leave it out on servers that do not have the command
        rules.append(rule)
    return rules


@pytest.mark.parametrize("form", ["minimal", "simple"])
def test_a_workload_runs_as_a_user_with_the_acl_of_the_page(server: RedisServer, form: str) -> None:
    with server.client() as admin:
        admin.flushall()
        admin.script_flush()  # the first call of each script goes EVALSHA, NOSCRIPT, then EVAL
        admin.execute_command("ACL", "LOG", "RESET")
        user = f"app_{form}"
        admin.execute_command("ACL", "SETUSER", user, "reset", *_rules(server, form))
    app = redis.Redis(unix_socket_path=str(server.socket), username=user, password="secret")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # CONFIG GET is refused: no warning, and no failure
            typedredis.connect(app, Order)
            Order.reset(orders(5_000))
        _workload(app)
    finally:
        app.close()
    with server.client() as admin:
        refused = {entry[b"object"].decode() for entry in admin.execute_command("ACL", "LOG")}
    assert refused <= OPTIONAL, f"{form} ACL: refused {sorted(refused - OPTIONAL)}"


def _workload(app: redis.Redis) -> None:
    f = Order.f
    assert Order.objects.count() == 5_000
    new = Order(status="new", shop=99, total=-1, seq=1, ref="one").insert()
    with pytest.raises(AlreadyExists):
        Order(pk=new.pk, status="x", shop=1, total=1, seq=1, ref="two").insert()
    Order.save_all(list(orders(300, start=10_000)))  # several calls: the read-only pre-check too
    Order.insert_all(list(orders(150, start=20_000)))
    assert new.pk is not None and Order.get(new.pk).ref == "one"
    assert Order.get_by(f.ref, "r7").total == 7
    assert len(Order.get_many([1, 2, 999_999])) == 3
    # queries of every strategy: exact, sintercard, rank, probe, sets, walks, chunks, in_ pieces
    everything, open_ = Order.objects.count(), Order.query(f.status == "open").count()
    assert Order.query(f.status != "open").count() == everything - open_
    assert Order.query(f.total >= 100).count() > 0
    made = [*range(5_000), *range(10_000, 10_300), *range(20_000, 20_150)]
    assert Order.query(f.status == "open", f.shop == 10).count() == sum(i % 50 == 10 for i in made)
    assert Order.query(f.status == "open", f.shop == 10).exists()
    assert len(Order.objects.order_by(f.total.desc()).offset(2_000).limit(20).all()) == 20
    assert len(Order.objects.offset(10).limit(20).pks()) == 20
    assert Order.query(f.shop == 3, f.total < 1_000).pks() == list(range(4, 1_000, 50))
    assert len(Order.query((f.shop == 3) | (f.total < 10)).pks()) > 0
    assert len(Order.query(f.status == "paid").all()) > 4_000  # found at once, fetched in chunks
    assert len(Order.query(f.status == "paid").limit(20).pks()) == 20  # a walk of `all`
    assert Order.query(f.status == "paid", f.total >= 10, f.seq <= -10).count() > 4_000  # candidates
    assert len(Order.query(f.shop.in_(range(25))).all()) > 2_000
    assert len(Order.query(f.status == "paid").order_by(f.total.desc()).offset(30).limit(20).all()) == 20
    assert Order.query(f.total.in_(range(0, 6_000, 2))).count() > 2_000  # split into pieces of 2 000
    assert Order.objects.only(f.ref, f.total).first() is not None
    assert Order.query(f.shop == 4).update(note="seen") > 0
    assert Order.query(f.status == "open").update(status="closed") > 0  # walked, 300 per call
    assert Order.query(f.ref == "one").update(ref="uno") == 1
    assert sum(1 for _ in Order.query(f.shop == 5).iter(batch=30)) > 0
    assert Order.query(f.status == "closed").delete() > 0
    assert Order.query(f.shop == 6).delete() > 0
    assert Order.delete_many([new.pk]) == 1
    assert new.delete() is False
    _next_release_reindexes(app)  # before the reset: over 4 000 objects, in many calls
    Order.reset(orders(10))  # cleans up the old generation
    assert Order.objects.count() == 10


def _next_release_reindexes(app: redis.Redis) -> None:
    """The next release indexes ``note`` and builds that index online (typedredis reindex)."""
    model._registry.pop(key("aclorder"), None)

    class Order2(Model, key=key("aclorder")):
        status: Indexed[str]
        shop: Indexed[int]
        total: Sorted[int]
        seq: Sorted[int]
        ref: Unique[str]
        note: Indexed[str] = ""

    with typedredis.using(app):
        report = Order2.reindex(migrate=True)  # (migrate: every object is read whole, compared)
        assert report.built == ("e:note",)
        assert Order2.query(Order2.f.note == "seen").count() > 0
        assert Order2._sync("check").run(audit.audit(Order2.spec())).ok  # typedredis check
    model._registry[key("aclorder")] = Order  # this release again, for the rest of the workload
