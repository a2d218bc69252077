"""The course website (``make site``): built from the committed notebooks, served on 127.0.0.1 and
opened in headless Chromium (Debian's ``chromium``), which is driven over the DevTools protocol on
a pipe (``--remote-debugging-pipe``: no port, no extra Python package).

Every page (the landing page, each notebook, the reference results) must load; every image on it
must be decoded (``naturalWidth > 0``), and a notebook page must show at least as many images as
the notebook has image outputs; every internal link must answer 200 from the server (and its
``#fragment`` must exist on the target page); no page may show a raw traceback or ANSI-coloured
error output; nothing may be requested from outside 127.0.0.1; each notebook page carries its
"Last verified" box. One screenshot per page is saved in ``_build/screenshots/``.

Without Chromium the test skips locally (``apt-get install chromium``) and fails under CI.
"""

from __future__ import annotations

import base64
import fcntl
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

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "_build" / "screenshots"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
PAGES = ["index", *(f"notebooks/{nb.stem}" for nb in NOTEBOOKS), "reference-results"]
VIEWPORT = {"width": 1280, "height": 900}
MAX_SCREENSHOT_HEIGHT = 6000  # px: the top of a long notebook page (layout, navigation, first figures)
PAGE_TIMEOUT = 60  # seconds for one page to load and decode its images

# The flags every Chromium here is started with (Debian's package, as root, no network).
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

# Runs in the page: waits for every image to be decoded, then reports what the checks need.
PAGE_REPORT_JS = """
(async () => {
  const images = [...document.images];
  await Promise.all(images.map((img) => img.decode().catch(() => null)));
  const content = document.querySelector(".md-content") || document.body;
  return {
    title: document.title,
    h1: (content.querySelector("h1") || {textContent: ""}).textContent.trim(),
    images: images.map((img) => ({
      src: (img.currentSrc || img.src).slice(0, 80),
      width: img.naturalWidth,
      height: img.naturalHeight,
      in_content: content.contains(img),
    })),
    text: document.body.innerText,
    ansi_elements: content.querySelectorAll('[class*="ansi-"]').length,
    links: [...document.querySelectorAll("a[href]")].map((a) => a.href),
    nav_links: [...document.querySelectorAll(".md-sidebar--primary a[href], .md-footer a[href]")].map((a) => a.href),
    footer_links: [...document.querySelectorAll(".md-footer a[href]")].map((a) => a.href),
    anchors: [...document.querySelectorAll("[id], a[name]")].map((e) => e.id || e.getAttribute("name")),
    verified: [...content.querySelectorAll(".last-verified")].map((e) => ({
      state: e.dataset.verified, text: e.innerText.trim(),
    })),
    height: Math.ceil(document.documentElement.scrollHeight),
  };
})()
"""


def _ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _missing(reason: str):
    if _ci():
        pytest.fail(f"{reason} (CI must have it: .ci/run installs it)")
    pytest.skip(reason)


def chromium_executable() -> str | None:
    for candidate in (os.environ.get("COURSE_CHROMIUM"), shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def image_outputs(path: Path) -> int:
    """How many images the committed notebook shows (PNG, JPEG or SVG outputs)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    kinds = ("image/png", "image/jpeg", "image/svg+xml")
    return sum(any(k in out.get("data", {}) for k in kinds) for cell in nb["cells"] for out in cell.get("outputs", []))


class Chromium:
    """Headless Chromium, driven over the DevTools protocol on fds 3 (in) and 4 (out)."""

    def __init__(self, executable: str, profile_dir: Path, log_path: Path):
        to_browser = os.pipe()
        from_browser = os.pipe()
        # Move the ends Chromium keeps above fd 10, so putting them on 3 and 4 clobbers nothing.
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (*to_browser, *from_browser)]
        for fd in (*to_browser, *from_browser):
            os.close(fd)
        child_in, self._write_fd, self._read_fd, child_out = high

        def on_fds_3_and_4():
            os.dup2(child_in, 3)  # os.dup2 makes 3 and 4 inheritable; the rest stays close-on-exec
            os.dup2(child_out, 4)

        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen(
            [executable, *CHROMIUM_FLAGS, f"--user-data-dir={profile_dir}", "--remote-debugging-pipe", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=on_fds_3_and_4,
            close_fds=False,
        )
        os.close(child_in)
        os.close(child_out)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []

    def log_tail(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-3000:]

    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer from Chromium\n" + self.log_tail())
            ready, _, _ = select.select([self._read_fd], [], [], left)
            if ready:
                chunk = os.read(self._read_fd, 1 << 20)
                if not chunk:
                    raise RuntimeError(f"Chromium closed the pipe (exit {self.proc.poll()})\n" + self.log_tail())
                self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 30) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        while data:
            data = data[os.write(self._write_fd, data) :]
        deadline = time.monotonic() + timeout
        while True:
            answer = self._read_message(deadline)
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            self.events.append(answer)

    def wait_for(self, method: str, session: str, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for event in self.events[seen:]:
                if event.get("method") == method and event.get("sessionId") == session:
                    return event
            seen = len(self.events)
            self.events.append(self._read_message(deadline))

    def close(self):
        try:
            self.send("Browser.close", timeout=10)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._write_fd, self._read_fd):
            os.close(fd)
        self._log.close()


def visit(browser: Chromium, url: str, screenshot: Path) -> dict:
    """Open url in a fresh tab; return the page's report, its errors and requests; save a screenshot."""
    target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    start = len(browser.events)
    for domain in ("Page", "Runtime", "Network"):
        browser.send(f"{domain}.enable", session=session)
    browser.send("Emulation.setDeviceMetricsOverride", {**VIEWPORT, "deviceScaleFactor": 1, "mobile": False}, session)
    navigated = browser.send("Page.navigate", {"url": url}, session)
    assert "errorText" not in navigated, f"{url}: {navigated['errorText']}"
    browser.wait_for("Page.loadEventFired", session, PAGE_TIMEOUT)
    result = browser.send(
        "Runtime.evaluate",
        {"expression": PAGE_REPORT_JS, "awaitPromise": True, "returnByValue": True},
        session,
        timeout=PAGE_TIMEOUT,
    )
    if "exceptionDetails" in result:
        raise RuntimeError(f"{url}: the page report failed: {result['exceptionDetails']}")
    report = result["result"]["value"]
    height = min(report["height"], MAX_SCREENSHOT_HEIGHT)
    shot = browser.send(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": VIEWPORT["width"], "height": height, "scale": 1},
        },
        session,
        timeout=PAGE_TIMEOUT,
    )
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    screenshot.write_bytes(base64.b64decode(shot["data"]))
    events = [e for e in browser.events[start:] if e.get("sessionId") == session]
    report["status"] = next(
        (
            e["params"]["response"]["status"]
            for e in events
            if e.get("method") == "Network.responseReceived" and e["params"]["type"] == "Document"
        ),
        None,
    )
    report["requests"] = [
        e["params"]["request"]["url"] for e in events if e.get("method") == "Network.requestWillBeSent"
    ]
    report["js_errors"] = [
        e["params"]["exceptionDetails"].get("exception", {}).get("description")
        or e["params"]["exceptionDetails"].get("text")
        for e in events
        if e.get("method") == "Runtime.exceptionThrown"
    ]
    report["failed_requests"] = [
        e["params"].get("errorText") for e in events if e.get("method") == "Network.loadingFailed"
    ]
    browser.send("Target.closeTarget", {"targetId": target})
    return report


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site, built once from the committed notebooks into a temporary folder."""
    try:
        import material  # noqa: F401
        import mkdocs  # noqa: F401
        import mkdocs_jupyter  # noqa: F401
    except ImportError as error:
        _missing(f"the site tool is not installed ({error}): make install")
    out = tmp_path_factory.mktemp("site")
    t0 = time.perf_counter()
    build = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "build_site.py"), "--quiet"]
        + ["--src-dir", str(out / "src"), "--site-dir", str(out / "html")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert build.returncode == 0, f"make site failed:\n{build.stdout}\n{build.stderr}"
    print(f"site built in {time.perf_counter() - t0:.1f} s")
    return out / "html"


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
    """The Chromium executable (checked before the site is built)."""
    executable = chromium_executable()
    if executable is None:
        _missing("Chromium is not installed: apt-get install chromium (Debian's package)")
    return executable


@pytest.fixture(scope="module")
def pages(chromium, site, server, tmp_path_factory):
    """Every page opened once in headless Chromium: {page: report}; screenshots saved."""
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    tmp = tmp_path_factory.mktemp("chromium")
    browser = Chromium(chromium, tmp / "profile", tmp / "chromium.log")
    t0 = time.perf_counter()
    try:
        reports = {}
        for page in PAGES:
            shot = SCREENSHOTS / f"{page.rsplit('/', 1)[-1]}.png"
            reports[page] = visit(browser, urllib.parse.urljoin(server, f"{page}.html"), shot)
    finally:
        browser.close()
    print(f"{len(PAGES)} pages opened in Chromium in {time.perf_counter() - t0:.1f} s; screenshots in {SCREENSHOTS}")
    return reports


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _internal(url: str, server: str) -> bool:
    return url.startswith(server)


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
    outside = [u for u in report["requests"] if urllib.parse.urlsplit(u).scheme in ("http", "https", "ws", "wss")]
    outside = [u for u in outside if urllib.parse.urlsplit(u).hostname != "127.0.0.1"]
    assert not outside, f"{page} requests from outside the site: {outside}"
    assert not report["failed_requests"], f"{page}: failed requests {report['failed_requests']}"
    assert (SCREENSHOTS / f"{page.rsplit('/', 1)[-1]}.png").stat().st_size > 0


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.stem for nb in NOTEBOOKS])
def test_notebook_page_shows_its_figures_last_verified_and_download(pages, notebook):
    report = pages[f"notebooks/{notebook.stem}"]
    expected = image_outputs(notebook)
    shown = [img for img in report["images"] if img["in_content"] and img["width"] > 0]
    assert len(shown) >= expected, f"{notebook.name}: {expected} image outputs, {len(shown)} decoded images"
    assert len(report["verified"]) == 1, f"{notebook.name}: no 'Last verified' box"
    downloads = [u for u in report["links"] if u.split("#")[0].endswith(f"/notebooks/{notebook.name}")]
    assert downloads, f"{notebook.name}: no download link"
    with urllib.request.urlopen(downloads[0], timeout=30) as response:
        assert response.read() == notebook.read_bytes(), f"{notebook.name}: the download is not the committed notebook"
    box = report["verified"][0]
    metrics = ROOT / "docs" / "verified" / f"{notebook.stem}.json"
    if metrics.exists():
        m = json.loads(metrics.read_text())
        assert box["state"] == "yes"
        for key in ("profile", "device", "run_date", "torch"):
            if key in m:
                assert str(m[key]) in box["text"], f"{notebook.name}: {key} {m[key]!r} not in {box['text']!r}"
    else:
        assert box["state"] == "no" and "not verified yet" in box["text"]


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
            if not _internal(link, server):
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
