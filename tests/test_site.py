"""The course website (``make site``): built from the committed notebooks, served on 127.0.0.1 and
opened with Playwright (``playwright.sync_api``) in headless Chromium: Debian's ``chromium``, since
Playwright's own browser download does not work without internet.

Every page (the landing page, each notebook, the reference results) must load; every image on it
must be decoded (``naturalWidth > 0``), and a notebook page must show at least as many images as
the notebook has image outputs; every internal link must answer 200 from the server (and its
``#fragment`` must exist on the target page); no page may show a raw traceback or ANSI-coloured
error output; nothing may be requested from outside 127.0.0.1 (every request is recorded, and
outside HTTP ones are aborted); each notebook page carries its "Last verified" box and a download
link to the committed notebook. One screenshot per page is saved in ``_build/screenshots/``.

Without Playwright or Chromium the test skips locally and fails under CI.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from course_utils.catalogue import CATALOGUE

try:
    from playwright.sync_api import sync_playwright
except ImportError:
    sync_playwright = None

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "_build" / "screenshots"
NOTEBOOKS = [nb.path for nb in CATALOGUE]
PAGES = ["index", *(f"notebooks/{nb.stem}" for nb in NOTEBOOKS), "reference-results"]
VIEWPORT = {"width": 1280, "height": 900}
MAX_SCREENSHOT_HEIGHT = 6000  # px: the top of a long notebook page (layout, navigation, first figures)
PAGE_TIMEOUT_MS = 60_000  # for one page to load and decode its images

# Debian's package, run as root on a machine with no network: the background-networking flags
# keep Chromium from opening connections of its own, which the closed network refuses. Playwright
# adds most of these by default; they are listed so the test does not depend on its defaults.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--mute-audio",
]

# Runs in the page once it has loaded: waits for every image to be decoded (or to fail), then
# reports what the checks need in one round trip.
PAGE_REPORT_JS = """
async () => {
  const images = [...document.images];
  await Promise.all(images.map((img) => img.decode().catch(() => null)));
  const content = document.querySelector(".md-content") || document.body;
  const hrefs = (selector) => [...document.querySelectorAll(selector)].map((a) => a.href);
  return {
    h1: (content.querySelector("h1") || {textContent: ""}).textContent.trim(),
    images: images.map((img) => ({
      src: (img.currentSrc || img.src).slice(0, 80),
      width: img.naturalWidth,
      in_content: content.contains(img),
    })),
    text: document.body.innerText,
    ansi_elements: content.querySelectorAll('[class*="ansi-"]').length,
    links: hrefs("a[href]"),
    nav_links: hrefs(".md-sidebar--primary a[href], .md-footer a[href]"),
    footer_links: hrefs(".md-footer a[href]"),
    anchors: [...document.querySelectorAll("[id], a[name]")].map((e) => e.id || e.getAttribute("name")),
    verified: [...content.querySelectorAll(".last-verified")].map((e) => ({
      state: e.dataset.verified, text: e.innerText.trim(),
    })),
  };
}
"""


def _ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _missing(reason: str):
    if _ci():
        pytest.fail(f"{reason} (CI must have it: .ci/run installs it)")
    pytest.skip(reason)


def chromium_executable() -> str | None:
    for candidate in (shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def image_outputs(path: Path) -> int:
    """How many images the committed notebook shows (PNG, JPEG or SVG outputs)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    kinds = ("image/png", "image/jpeg", "image/svg+xml")
    return sum(any(k in out.get("data", {}) for k in kinds) for cell in nb["cells"] for out in cell.get("outputs", []))


def _outside(url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme in ("http", "https", "ws", "wss") and parts.hostname != "127.0.0.1"


def visit(context, url: str, screenshot: Path) -> dict:
    """Open url in a fresh tab; return the page's report, its errors and requests; save a screenshot."""
    page = context.new_page()
    requests, js_errors, failed = [], [], []
    page.on("request", lambda request: requests.append(request.url))
    page.on("websocket", lambda socket: requests.append(socket.url))
    page.on("pageerror", lambda error: js_errors.append(error.stack or error.message))
    page.on("requestfailed", lambda request: failed.append(f"{request.url}: {request.failure}"))
    response = page.goto(url, wait_until="load")
    report = page.evaluate(PAGE_REPORT_JS)
    # full_page lets the clip reach below the viewport; Playwright trims it to the page's height.
    clip = {"x": 0, "y": 0, "width": VIEWPORT["width"], "height": MAX_SCREENSHOT_HEIGHT}
    page.screenshot(path=screenshot, full_page=True, clip=clip)
    page.close()
    return {
        **report,
        "status": response.status if response else None,
        "requests": requests,
        "js_errors": js_errors,
        "failed_requests": failed,
    }


@pytest.fixture(scope="module")
def site():
    """The site, built once from the committed notebooks where ``make site`` writes it
    (``_build/site/``): under CI this build is the site's build too."""
    try:
        import material  # noqa: F401
        import mkdocs  # noqa: F401
        import mkdocs_jupyter  # noqa: F401
    except ImportError as error:
        _missing(f"the site tool is not installed ({error}): make install")
    t0 = time.perf_counter()
    build = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "build_site.py"), "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert build.returncode == 0, f"make site failed:\n{build.stdout}\n{build.stderr}"
    print(f"site built in {time.perf_counter() - t0:.1f} s")
    return ROOT / "_build" / "site"


@pytest.fixture(scope="module")
def server(site):
    """python -m http.server on 127.0.0.1, on a port the system picks; yields its base URL."""
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", str(site)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 30)
        line = proc.stdout.readline() if ready else ""
        # "Serving HTTP on 127.0.0.1 port 40123 (http://127.0.0.1:40123/) ..."
        assert " port " in line, f"http.server did not start: {line!r}"
        port = int(line.split(" port ")[1].split()[0])
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def chromium():
    """Playwright and the Chromium executable (checked before the site is built)."""
    if sync_playwright is None:
        _missing("Playwright is not installed: make install (or pip install playwright==1.65.2)")
    executable = chromium_executable()
    if executable is None:
        _missing(
            "Chromium is not installed: apt-get install chromium (Debian's package; "
            "`playwright install` needs the internet and is not used)"
        )
    return executable


@pytest.fixture(scope="module")
def pages(chromium, site, server):
    """Every page opened once in headless Chromium: {page: report}; screenshots saved."""
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    t0 = time.perf_counter()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        context = browser.new_context(viewport=VIEWPORT)
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        # Aborted at once rather than left to the network (which may hang rather than refuse);
        # the page's request listener has already recorded the URL for the test to report.
        context.route(_outside, lambda route: route.abort("blockedbyclient"))
        reports = {}
        for page in PAGES:
            shot = SCREENSHOTS / f"{page.rsplit('/', 1)[-1]}.png"
            reports[page] = visit(context, urllib.parse.urljoin(server, f"{page}.html"), shot)
        browser.close()
    print(f"{len(PAGES)} pages opened in Chromium in {time.perf_counter() - t0:.1f} s; screenshots in {SCREENSHOTS}")
    return reports


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.parametrize("page", PAGES)
def test_page_loads_with_decoded_images_and_no_traceback(pages, page):
    report = pages[page]
    assert report["status"] == 200, f"{page}: HTTP {report['status']}"
    assert report["h1"], f"{page}: no title heading"
    broken = [img for img in report["images"] if img["width"] == 0]
    assert not broken, f"{page}: images not decoded: {broken}"
    assert "Traceback (most recent call last)" not in report["text"], f"{page} shows a traceback"
    assert "\x1b[" not in report["text"], f"{page} shows raw ANSI escape codes"
    assert report["ansi_elements"] == 0, f"{page} shows ANSI-coloured output (an error's traceback)"
    assert not report["js_errors"], f"{page}: JavaScript errors {report['js_errors']}"
    outside = [u for u in report["requests"] if _outside(u)]
    assert not outside, f"{page} requests from outside the site: {outside}"
    assert not report["failed_requests"], f"{page}: failed requests {report['failed_requests']}"
    shot = SCREENSHOTS / f"{page.rsplit('/', 1)[-1]}.png"
    assert shot.stat().st_size > 0, f"{page}: empty screenshot {shot}"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.stem for nb in NOTEBOOKS])
def test_notebook_page_shows_its_figures_last_verified_and_download(pages, notebook):
    report = pages[f"notebooks/{notebook.stem}"]
    expected = image_outputs(notebook)
    shown = [img for img in report["images"] if img["in_content"] and img["width"] > 0]
    assert len(shown) >= expected, f"{notebook.name}: {expected} image outputs, {len(shown)} decoded images"
    assert len(report["verified"]) == 1, f"{notebook.name}: {len(report['verified'])} 'Last verified' boxes, not 1"
    downloads = [u for u in report["links"] if u.split("#")[0].endswith(f"/notebooks/{notebook.name}")]
    assert downloads, f"{notebook.name}: no download link"
    with urllib.request.urlopen(downloads[0], timeout=30) as response:
        assert response.read() == notebook.read_bytes(), f"{notebook.name}: the download is not the committed notebook"
    box = report["verified"][0]
    metrics = ROOT / "docs" / "verified" / f"{notebook.stem}.json"
    if metrics.exists():
        m = json.loads(metrics.read_text())
        assert box["state"] == "yes", f"{notebook.name}: {metrics.name} exists but the box says {box['text']!r}"
        for key in ("profile", "device", "run_date", "torch"):
            if key in m:
                assert str(m[key]) in box["text"], f"{notebook.name}: {key} {m[key]!r} not in {box['text']!r}"
    else:
        assert box["state"] == "no" and "not verified yet" in box["text"], (
            f"{notebook.name}: no {metrics.name}, but the box says {box['text']!r}"
        )


def test_navigation_reaches_every_notebook_and_every_link_resolves(pages, server):
    wanted = {urllib.parse.urljoin(server, f"{page}.html") for page in PAGES}
    from_landing = {u.split("#")[0] for u in pages["index"]["links"]}
    assert wanted <= from_landing, f"not linked from the landing page: {sorted(wanted - from_landing)}"
    for nb in NOTEBOOKS:
        nav = {u.split("#")[0] for u in pages[f"notebooks/{nb.stem}"]["nav_links"]}
        missing = wanted - nav
        assert not missing, f"{nb.stem}: the navigation does not link {sorted(missing)}"
        assert pages[f"notebooks/{nb.stem}"]["footer_links"], f"{nb.stem}: no previous/next links"

    anchors = {urllib.parse.urljoin(server, f"{page}.html"): set(r["anchors"]) for page, r in pages.items()}
    statuses: dict[str, int] = {}
    problems: list[str] = []
    for page, report in pages.items():
        for link in report["links"]:
            if not link.startswith(server):
                continue
            base, _, fragment = link.partition("#")
            if base not in statuses:
                statuses[base] = _status(base)
            if statuses[base] != 200:
                problem = f"{page}: {link} -> HTTP {statuses[base]}"
            elif fragment and base in anchors and urllib.parse.unquote(fragment) not in anchors[base]:
                problem = f"{page}: {link} -> no element with id {fragment!r}"
            else:
                continue
            if problem not in problems:
                problems.append(problem)
    assert not problems, "broken links:\n" + "\n".join(problems)
