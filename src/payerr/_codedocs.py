"""The code reference pages of the docs site, made from the catalog.

One page per provider, or per family where a provider has many codes (WeChat's
server APIs and WeChat Pay; Alipay's public codes, trade codes, gateway codes and
the rest). Every code is a heading with the code itself as its anchor, so a
search hit, a log line and ``payerr explain`` all land on its card.

Run ``python -m payerr._codedocs [DOCS_DIR]`` after changing an adapter file;
``tests/test_codedocs.py`` fails while the pages are stale.
"""

from __future__ import annotations

import html
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ._catalog import CodeInfo, ProviderSpec, catalog

Rule = Callable[[CodeInfo], bool]


@dataclass(frozen=True)
class Family:
    """A group of one provider's codes that gets its own page."""

    slug: str
    title: str
    intro: str
    prefixes: tuple[str, ...] = ()
    """Codes (or sub-codes) starting with one of these belong here."""
    numeric: bool | None = None
    """True: only numeric codes; False: only named ones; None: either."""
    sub: bool | None = None
    """True: only Alipay-style sub-codes; False: only top-level codes and statuses."""
    statuses: bool = True
    """Whether the adapter's HTTP statuses belong here."""

    def holds(self, info: CodeInfo, *, status: bool = False) -> bool:
        key = key_of(info)
        if status and not self.statuses:
            return False
        if self.sub is not None and (info.sub_code is not None) != self.sub:
            return False
        if self.numeric is not None and key.lstrip("-").isdigit() != self.numeric:
            return False
        return not self.prefixes or key.startswith(self.prefixes)


FAMILIES: dict[str, tuple[Family, ...]] = {
    "wechat": (
        Family(
            "server",
            "WeChat server APIs",
            "`errcode` of api.weixin.qq.com: Official Account, Mini Program, Open Platform, "
            "store and transaction-component APIs.",
            numeric=True,
            statuses=False,
        ),
        Family(
            "pay",
            "WeChat Pay (API v3 and v2)",
            "`code` of API v3 (JSON under `/v3/`) and `err_code` / `return_code` of API v2 "
            "(XML). A code spelled the same in both versions with the same meaning is one card; "
            "where it differs by API, the card says so. HTTP statuses are API v3's.",
        ),
    ),
    "alipay": (
        Family(
            "public",
            "Alipay public codes",
            "The gateway's `code` (`10000` success, `20000`, `40004`...) and the HTTP statuses "
            "of API v3; the `sub_code` under it says more.",
            sub=False,
        ),
        Family(
            "acq",
            "Alipay trade codes (ACQ)",
            "`sub_code` values of the trade APIs (`alipay.trade.*`).",
            prefixes=("ACQ.", "AQC."),
        ),
        Family(
            "isv",
            "Alipay gateway codes (isv, isp, aop)",
            "`sub_code` values the gateway itself returns: signatures, parameters, "
            "permissions, call limits.",
            prefixes=("isv.", "isp.", "aop."),
        ),
        Family(
            "other",
            "Alipay fund and other codes",
            "Further `sub_code` values: transfers, fund authorisation and other products.",
        ),
    ),
}
"""Which providers are split into pages, and how; every other provider is one page."""


@dataclass(frozen=True)
class Page:
    provider: str
    slug: str
    title: str
    intro: str
    codes: tuple[CodeInfo, ...]

    @property
    def path(self) -> str:
        """Where the page lives under docs/."""
        return f"codes/{self.slug}.md"


def key_of(info: CodeInfo) -> str:
    """The code a person reads on the wire: the sub-code where there is one."""
    return info.sub_code or info.code


def anchor_of(info: CodeInfo, spec: ProviderSpec | None = None) -> str:
    """The card's HTML id: the code itself; an HTTP status gets ``http-``."""
    spec = spec or catalog().spec(info.provider)
    is_status = info.sub_code is None and any(s is info for s in spec.statuses.values())
    return f"http-{info.code}" if is_status else key_of(info)


def _entries(spec: ProviderSpec) -> list[CodeInfo]:
    """Every error entry and HTTP status a provider's adapter declares, in file order."""
    return [
        *(i for i in spec.codes.values() if not i.ok),
        *(i for i in spec.sub_codes.values() if not i.ok),
        *spec.statuses.values(),
    ]


def pages() -> list[Page]:
    """Every code page, for whatever adapters are installed."""
    found: list[Page] = []
    for spec in catalog():
        entries = _entries(spec)
        families = FAMILIES.get(spec.name)
        if not families:
            intro = f"Every code of the `{spec.name}` adapter."
            found.append(Page(spec.name, spec.name, spec.display, intro, tuple(entries)))
            continue
        statuses = {id(info) for info in spec.statuses.values()}
        left = entries
        for family in families:
            held = [i for i in left if family.holds(i, status=id(i) in statuses)]
            left = [i for i in left if not family.holds(i, status=id(i) in statuses)]
            slug = f"{spec.name}-{family.slug}"
            found.append(Page(spec.name, slug, family.title, family.intro, tuple(held)))
        if left:  # a family table that misses codes must not hide them
            found.append(
                Page(spec.name, f"{spec.name}-more", f"{spec.display}: more", "", tuple(left))
            )
    return found


def _same(a: CodeInfo, b: CodeInfo) -> bool:
    return a is b or (a.provider == b.provider and a.code == b.code and a.sub_code == b.sub_code)


def page_of(info: CodeInfo) -> str | None:
    """The docs path of the page holding this entry (``codes/wechat-server.md``), if any."""
    for page in pages():
        if page.provider == info.provider and any(_same(i, info) for i in page.codes):
            return page.path
    return None


def link(info: CodeInfo, base: str) -> str | None:
    """The address of this entry's card on the site at ``base``; None for no card."""
    path = page_of(info)
    if path is None:
        return None
    return f"{base.rstrip('/')}/{path.removesuffix('.md')}/#{anchor_of(info)}"


def _text(value: object) -> str:
    return html.escape(str(value), quote=True)


def _rules(info: CodeInfo) -> Iterator[str]:
    for rule in info.rules:
        changes = rule.changes
        said = [
            f"{name}: {_text(getattr(changes[name], 'value', changes[name]))}"
            for name in ("category", "retry", "processed")
            if name in changes
        ]
        fix = changes.get("solution_en") or changes.get("fix_en")
        if fix:
            said.append(_text(fix))
        methods = ", ".join(f"<code>{_text(m)}</code>" for m in rule.methods)
        yield f"<li>on {methods}: {'; '.join(said)}</li>"


def card(info: CodeInfo, anchor: str) -> str:
    """One code as a card: a heading (the anchor), tags, meaning, fix, per-API lines."""
    cls = info.error_class.__name__ if info.error_class else ""
    category = info.category.value if info.category else ""
    heading = f"HTTP {info.code}" if anchor.startswith("http-") else key_of(info)
    parent = f" under <code>{_text(info.code)}</code>" if info.sub_code else ""
    words = " ".join(
        (key_of(info), info.code, cls, category, f"retry:{info.retry.value}", info.retry.value)
    )
    lines = [
        f'<div class="pe-code" data-filter="{_text(words.lower())}" markdown>',
        "",
        f"### `{heading}` {{ #{anchor} }}",
        "",
        '<p class="pe-tags">'
        f'<span class="pe-tag pe-class">{_text(cls)}</span> '
        f'<span class="pe-tag pe-cat">{_text(category)}</span> '
        f'<span class="pe-tag pe-retry pe-retry-{_text(info.retry.value)}">'
        f"retry: {_text(info.retry.value)}</span> "
        f'<span class="pe-tag">processed: {_text(info.processed.value)}</span>{parent}</p>',
        f'<p class="pe-meaning">{_text(info.message_en)}<br><span lang="zh">'
        f"{_text(info.message_zh)}</span></p>",
        f'<p class="pe-fix"><strong>What to do:</strong> {_text(info.solution_en)}<br>'
        f'<span lang="zh"><strong>处理：</strong>{_text(info.solution_zh)}</span></p>',
    ]
    if info.provider_message:
        lines.append(
            f'<p class="pe-says">Provider says: <code>{_text(info.provider_message)}</code></p>'
        )
    if info.window or info.cooldown == "api":
        reach = "this API only" if info.cooldown == "api" else "the whole app"
        window = f"quota window: {_text(info.window)}; " if info.window else ""
        lines.append(f'<p class="pe-says">{window}cooldown reaches {reach}</p>')
    rules = list(_rules(info))
    if rules:
        lines.append('<ul class="pe-rules">' + "".join(rules) + "</ul>")
    lines += ["", "</div>", ""]
    return "\n".join(lines)


FILTER = (
    '<div class="pe-filter" markdown="0">'
    '<input type="search" id="pe-filter" autocomplete="off" '
    'placeholder="Filter: code, words, category, retry hint" '
    'aria-label="Filter the codes on this page">'
    '<span id="pe-count" aria-live="polite"></span></div>'
)


def render_page(page: Page) -> str:
    spec = catalog().spec(page.provider)
    head = [
        "---",
        f"title: {json.dumps(page.title, ensure_ascii=False)}",
        "hide:",
        "  - toc",
        "---",
        "",
        "<!-- Generated by `python -m payerr._codedocs` from the adapter files: do not edit. -->",
        "",
        f"# {page.title}",
        "",
    ]
    if page.intro:
        head += [page.intro, ""]
    head += [
        f"{len(page.codes)} codes. Each card is linkable: its address ends in `#` and the code; "
        "`payerr explain CODE` prints the same on the command line."
        if page.codes
        else "No codes.",
        "",
        FILTER,
        "",
    ]
    cards = [card(info, anchor_of(info, spec)) for info in page.codes]
    return "\n".join(head + cards)


def render_index(found: Iterable[Page]) -> str:
    lines = [
        "<!-- Generated by `python -m payerr._codedocs` from the adapter files: do not edit. -->",
        "",
        "# Code reference",
        "",
        "Every code payerr knows, one card each: what it means, what to do, whether payerr "
        "retries it and where that depends on the API. Every card has the code as its anchor, "
        "so `codes/wechat-server/#45009` opens on WeChat's 45009; the search box finds a code "
        "and opens its card, and each page has a filter box (code, words, category such as "
        "`rate_limited`, or a retry hint such as `query_first`); `?filter=rate_limited` in a "
        "page's address opens it filtered.",
        "",
        "| Page | Provider | Codes |",
        "| --- | --- | ---: |",
    ]
    for page in found:
        display = catalog().spec(page.provider).display
        lines.append(f"| [{page.title}]({page.path}) | {display} | {len(page.codes)} |")
    lines += [
        "",
        "On the command line: `payerr explain 45009`, `payerr codes --provider wechat`.",
        "",
    ]
    return "\n".join(lines)


SANDBOX_START = "<!-- generated: sandbox routes and steps (python -m payerr._codedocs) -->"
SANDBOX_END = "<!-- end of generated sandbox routes and steps -->"


def render_sandbox() -> str:
    """The sandbox's route names and steps, from its own tables, for docs/testing.md."""
    from .sandbox._state import STEPS
    from .sandbox._table import all_routes

    lines = [
        SANDBOX_START,
        "",
        "### Routes",
        "",
        "| route | provider | reached by |",
        "| --- | --- | --- |",
    ]
    for route in all_routes():
        where = route.where.replace("|", "\\|")
        lines.append(f"| `{route.name}` | {route.provider} | `{where}` |")
    lines += ["", "### Steps", "", "| step | what the sandbox answers |", "| --- | --- |"]
    lines += [f"| `{step}` | {meaning} |" for step, meaning in STEPS.items()]
    lines += ["", SANDBOX_END]
    return "\n".join(lines)


def render_testing(current: str) -> str:
    """docs/testing.md with its generated section made current."""
    head, start, rest = current.partition(SANDBOX_START)
    _, end, tail = rest.partition(SANDBOX_END)
    if not start or not end:
        raise ValueError("docs/testing.md lost its generated-section markers")
    return head + render_sandbox() + tail


def render_all(docs: Path | None = None) -> dict[str, str]:
    """Every generated file under docs/, by path."""
    found = pages()
    files = {"codes.md": render_index(found)}
    files.update({page.path: render_page(page) for page in found})
    testing = (docs or Path(__file__).resolve().parents[2] / "docs") / "testing.md"
    if testing.is_file():
        files["testing.md"] = render_testing(testing.read_text(encoding="utf-8"))
    return files


def write(docs: Path) -> list[Path]:
    """Write the pages; remove generated pages of providers that are gone."""
    files = render_all(docs)
    for stale in (docs / "codes").glob("*.md"):
        if f"codes/{stale.name}" not in files:
            stale.unlink()
    written = []
    for name, text in files.items():
        path = docs / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":  # pragma: no cover
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs")
    print(f"wrote {len(write(target))} files under {target}")
