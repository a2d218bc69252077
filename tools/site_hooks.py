"""MkDocs hook for the course website (named in mkdocs.yml): a notebook page's table of contents
is taken from the headings nbconvert actually rendered, so every entry links to an existing id.

mkdocs-jupyter computes the table of contents from a Markdown copy of the notebook with inline
code removed, so a heading such as "Why `Normalize(...)`?" gets the entry "Why ?" and the link
``#why``, while the page's heading has ``id="why-normalize01307-03081"``.
"""

from __future__ import annotations

import html
from html.parser import HTMLParser

from mkdocs.structure.toc import get_toc


class _Headings(HTMLParser):
    """Collects (level, id, text) of every <h1>..<h6> with an id, without the "¶" anchor link."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str, str]] = []
        self._current: list | None = None  # [level, id, text parts]
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6") and attrs.get("id"):
            self._current = [int(tag[1]), attrs["id"], []]
        elif self._current is not None and tag == "a" and "anchor-link" in (attrs.get("class") or ""):
            self._skip += 1

    def handle_endtag(self, tag):
        if self._current is None:
            return
        if tag == "a" and self._skip:
            self._skip -= 1
        elif tag == f"h{self._current[0]}":
            level, id_, parts = self._current
            self.found.append((level, id_, " ".join("".join(parts).split())))
            self._current = None

    def handle_data(self, data):
        if self._current is not None and not self._skip:
            self._current[2].append(data)


def toc_tokens(page_html: str) -> list[dict]:
    """The headings of page_html nested by level, as Python-Markdown's toc extension gives them."""
    parser = _Headings()
    parser.feed(page_html)
    root: list[dict] = []
    stack: list[dict] = []
    for level, id_, text in parser.found:
        token = {"level": level, "id": id_, "name": html.escape(text), "children": []}
        while stack and stack[-1]["level"] >= level:
            stack.pop()
        (stack[-1]["children"] if stack else root).append(token)
        stack.append(token)
    return root


def on_page_content(page_html, page, config, files):
    if page.file.src_uri.endswith(".ipynb"):
        page.toc = get_toc(toc_tokens(page_html))
    return page_html
