"""Open the built documentation site in headless Chromium and check that it really renders.

    python docs/render_check.py [--site DIR] [--out DIR]

Builds the site with ``mkdocs build --strict`` into a temporary directory (unless ``--site``
names an already built one), serves it on 127.0.0.1 with the standard library's HTTP server,
and opens the home page and the API reference page in Debian's ``chromium`` (headless, fresh
profile, no network beyond this machine). For each page it checks the dumped DOM: the four
navigation sections are there, the page's own content is there (the reference page documents
``class Model``), Material's JavaScript ran (it adds the copy buttons of code blocks), and
every request the browser made was answered by the local server with 200. It then writes a
screenshot of each page as PNG into ``--out`` (default: the temporary directory, outside git)
and prints where.

tests/test_docs.py runs the same check (`test_site_renders_in_chromium`); this script is the
way to run it by hand and look at the screenshots.
"""

from __future__ import annotations

import argparse
import functools
import html
import http.server
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

NAV_TITLES = ("Tutorial", "How-to guides", "Reference", "Explanation")
"""The four parts of the navigation: every page must show all of them."""


@dataclass(frozen=True)
class Page:
    """A page to open: text its visible content must contain, and patterns its DOM must match."""

    path: str
    text: tuple[str, ...]
    dom: tuple[str, ...]
    screenshot: str


JS_RAN = r'data-clipboard-target="#__code_0'
"""Material's JavaScript adds a copy button to every code block: proof that it loaded and ran."""

PAGES = (
    Page(
        "",
        ("Typed pydantic v2 models in Redis", "class User(Model, key=", "Model.reset"),
        (JS_RAN,),
        "home.png",
    ),
    Page(
        "reference/api/",
        ("API reference: typedredis", "Base class of stored models", "OutcomeUnknown", "Query"),
        (
            # mkdocstrings' heading of class Model: the symbol shows as a "class" badge
            r'doc-symbol-class"></code>\s*<span class="doc doc-object-name doc-class-name">Model</span>',
            r'doc-symbol-method"></code>\s*<span class="doc doc-object-name doc-function-name">save</span>',
            JS_RAN,
        ),
        "reference.png",
    ),
)
"""The home page and the API reference page."""


def visible_text(dom: str) -> str:
    """The text of a DOM dump: tags removed, entities decoded, whitespace collapsed."""
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", dom, flags=re.S | re.I)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", text)).split())


def find_chromium() -> str | None:
    """Debian's ``chromium`` (or a ``chromium-browser`` binary) on PATH, if installed."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def build_site(destination: Path) -> None:
    """``mkdocs build --strict`` of the repository's site into ``destination``."""
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(destination)],
        cwd=ROOT,  # pymdownx.snippets resolves docs/examples/... from the working directory
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},  # Material's end-of-life banner
        check=True,
    )


@dataclass
class _Log:
    requests: list[tuple[str, int]] = field(default_factory=list)


class _Handler(http.server.SimpleHTTPRequestHandler):
    log: _Log

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self.log.requests.append((self.path, int(code) if str(code).isdigit() else 0))

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


@contextmanager
def serve(site: Path) -> Iterator[tuple[str, _Log]]:
    """Serve ``site`` on a free port of 127.0.0.1; yields the base URL and the request log."""
    log = _Log()
    handler = type("Handler", (_Handler,), {"log": log})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(site))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", log
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def chromium(binary: str, profile: Path, *args: str, timeout: float = 90.0) -> str:
    """Run headless Chromium once with a fresh profile; returns its stdout."""
    command = [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",  # nothing but this machine
        f"--user-data-dir={profile}",
        "--window-size=1280,900",
        "--hide-scrollbars",
        "--virtual-time-budget=5000",
        *args,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"chromium exited with {done.returncode}:\n{done.stderr[-3000:]}")
    return done.stdout


def check_site(site: Path, out: Path, binary: str) -> list[Path]:
    """Open every page of `PAGES`; raise AssertionError on what is wrong; return screenshots."""
    shots: list[Path] = []
    with serve(site) as (base, log), tempfile.TemporaryDirectory(prefix="docs-chromium-") as tmp:
        for n, page in enumerate(PAGES):
            url = base + page.path
            log.requests.clear()
            shot = out / page.screenshot
            dom = chromium(binary, Path(tmp) / f"profile{n}", f"--screenshot={shot}", "--dump-dom", url)
            text = visible_text(dom)
            missing = [t for t in (*NAV_TITLES, *page.text) if t not in text]
            missing += [pattern for pattern in page.dom if not re.search(pattern, dom)]
            assert not missing, f"{url}: the rendered page lacks {missing}"
            failed = [(path, code) for path, code in log.requests if code != 200]
            assert log.requests and not failed, f"{url}: requests not answered with 200: {failed}"
            assert shot.exists() and shot.stat().st_size > 10_000, f"{url}: no usable screenshot"
            shots.append(shot)
    return shots


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--site", type=Path, help="an already built site (default: build one)")
    parser.add_argument("--out", type=Path, help="where to write the screenshots (default: a temp dir)")
    options = parser.parse_args(argv)
    binary = find_chromium()
    if binary is None:
        print("render check: chromium is not installed (apt-get install chromium)", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="typedredis-docs-"))
    site = options.site
    if site is None:
        site = work / "site"
        build_site(site)
    out = options.out or work
    out.mkdir(parents=True, exist_ok=True)
    shots = check_site(site, out, binary)
    print("render check passed:", ", ".join(PAGES[i].path or "/" for i in range(len(PAGES))))
    for shot in shots:
        print("screenshot:", shot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
