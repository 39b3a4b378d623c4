"""Post bodies: CommonMark source rendered to HTML at write time, then sanitised.

Two layers, so neither alone has to be perfect: markdown-it-py renders with raw HTML turned off (a
``<script>`` in the source comes out as text), and nh3 (the maintained Rust ``ammonia`` sanitiser)
keeps only an allow-list of tags, attributes and URL schemes. A ``javascript:`` link, an event
handler or a ``style`` attribute never reaches the stored HTML.

Both are imported when a body is rendered, not with this module: the functions that only read posts
(moderation's verdicts and expiry) ship without them; those that render ship them
(``workflows.moderation.POSTS_PACKAGE``, the API's package).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from lms.errors import ValidationError

MAX_BODY_CHARS = 10_000  # the source as written; the API model refuses more before we get here

ALLOWED_TAGS = frozenset(
    {
        "a",
        "blockquote",
        "br",
        "code",
        "del",
        "em",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "img",
        "li",
        "ol",
        "p",
        "pre",
        "strong",
        "ul",
    }
)
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "code": {"class"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})

if TYPE_CHECKING:
    from markdown_it import MarkdownIt


@functools.cache
def _renderer() -> MarkdownIt:
    from markdown_it import MarkdownIt

    # "commonmark" with html off: raw HTML in the source is escaped, not passed through.
    return MarkdownIt("commonmark", {"html": False, "linkify": False})


def render(source: str) -> str:
    """The sanitised HTML of a Markdown body; an empty or oversized body is refused."""
    if not source.strip():
        raise ValidationError("A post needs a body.")
    if len(source) > MAX_BODY_CHARS:
        raise ValidationError(f"A post body is at most {MAX_BODY_CHARS} characters.")
    return sanitise(_renderer().render(source))


def sanitise(html: str) -> str:
    import nh3

    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="nofollow noopener noreferrer",
        strip_comments=True,
    )
