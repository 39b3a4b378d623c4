"""Post bodies: Markdown rendered, then sanitised; vectors from the OWASP XSS filter evasion cheat sheet."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from lms.discussions import markdown
from lms.errors import ValidationError

pytestmark = pytest.mark.unit

# From https://cheatsheetseries.owasp.org/cheatsheets/XSS_Filter_Evasion_Cheat_Sheet.html, as a
# student would paste them into a post (raw HTML, Markdown links and images).
OWASP_VECTORS = [
    "<SCRIPT SRC=https://cdn.jsdelivr.net/gh/Moksh45/host-xss.rocks/index.js></SCRIPT>",
    "javascript:/*--></title></style></textarea></script></xmp><svg/onload='+/\"/+/onmouseover=1/+/[*/[]/+alert(1)//'>",  # noqa: E501
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<IMG SRC=javascript:alert('XSS')>",
    "<IMG SRC=JaVaScRiPt:alert('XSS')>",
    "<IMG SRC=`javascript:alert(\"RSnake says, 'XSS'\")`>",
    '<a onmouseover="alert(document.cookie)">xxs link</a>',
    '<IMG """><SCRIPT>alert("XSS")</SCRIPT>"\\>',
    "<IMG SRC=javascript:alert(String.fromCharCode(88,83,83))>",
    "<IMG SRC=# onmouseover=\"alert('xxs')\">",
    '<IMG SRC=/ onerror="alert(String.fromCharCode(88,83,83))"></img>',
    '<img src=x onerror="&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058&#0000097&#0000108&#0000101&#0000114&#0000116&#0000040&#0000039&#0000088&#0000083&#0000083&#0000039&#0000041">',  # noqa: E501
    "<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;&#97;&#108;&#101;&#114;&#116;&#40;&#39;&#88;&#83;&#83;&#39;&#41;>",  # noqa: E501
    "<IMG SRC=\"jav\tascript:alert('XSS');\">",
    "<IMG SRC=\"jav&#x0A;ascript:alert('XSS');\">",
    "<IMG SRC=\" &#14;  javascript:alert('XSS');\">",
    '<SCRIPT/XSS SRC="http://xss.rocks/xss.js"></SCRIPT>',
    '<BODY onload!#$%&()*~+-_.,:;?@[/|\\]^`=alert("XSS")>',
    '<<SCRIPT>alert("XSS");//\\<</SCRIPT>',
    "<SCRIPT SRC=http://xss.rocks/xss.js?< B >",
    "<IMG SRC=\"`<javascript:alert>`('XSS')\"",
    '</TITLE><SCRIPT>alert("XSS");</SCRIPT>',
    '<INPUT TYPE="IMAGE" SRC="javascript:alert(\'XSS\');">',
    "<BODY BACKGROUND=\"javascript:alert('XSS')\">",
    "<svg/onload=alert('XSS')>",
    "<BODY ONLOAD=alert('XSS')>",
    "<IFRAME SRC=\"javascript:alert('XSS');\"></IFRAME>",
    "<TABLE BACKGROUND=\"javascript:alert('XSS')\">",
    "<DIV STYLE=\"background-image: url(javascript:alert('XSS'))\">",
    "<DIV STYLE=\"width: expression(alert('XSS'));\">",
    '<META HTTP-EQUIV="refresh" CONTENT="0;url=javascript:alert(\'XSS\');">',
    '<OBJECT TYPE="text/x-scriptlet" DATA="http://xss.rocks/scriptlet.html"></OBJECT>',
    "<STYLE>@import'http://xss.rocks/xss.css';</STYLE>",
    '<LINK REL="stylesheet" HREF="javascript:alert(\'XSS\');">',
    '<a href="javascript&colon;alert(1)">x</a>',
    # The same attacks through Markdown's own syntax, which raw-HTML escaping alone does not stop.
    "[click me](javascript:alert('XSS'))",
    "[click me](JaVaScRiPt:alert('XSS'))",
    "[click me](javascript&#58;alert('XSS'))",
    "[click me](vbscript:msgbox('XSS'))",
    "[click me](data:text/html;base64,PHNjcmlwdD5hbGVydCgnWFNTJyk8L3NjcmlwdD4=)",
    "![x](javascript:alert('XSS'))",
    '![x](https://example.org/x.png "title\\" onerror=\\"alert(1)")',
    '[a](https://example.org "x\\" onmouseover=\\"alert(1)")',
    '<https://example.org/"onmouseover="alert(1)>',
]

SAFE_SCHEMES = ("http:", "https:", "mailto:")


class Elements(HTMLParser):
    """The elements and attributes a browser would build from the HTML (text stays text)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict[str, str]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, {name: value or "" for name, value in attrs}))


@pytest.mark.parametrize("source", OWASP_VECTORS)
def test_owasp_vectors_never_come_out_as_live_html(source: str) -> None:
    html = markdown.render(source)

    for tag, attributes in Elements(html).found:
        assert tag in markdown.ALLOWED_TAGS, html
        assert not [name for name in attributes if name.startswith("on") or name == "style"], html
        for name in ("href", "src"):
            url = "".join(attributes.get(name, "").split()).lower()
            assert not url or url.startswith(SAFE_SCHEMES) or ":" not in url.split("/")[0], html


def test_markdown_is_rendered_with_safe_links() -> None:
    html = markdown.render("# Title\n\nSome **bold**, `code` and [a link](https://example.org).")

    assert "<h1>Title</h1>" in html
    assert "<strong>bold</strong>" in html and "<code>code</code>" in html
    assert '<a href="https://example.org" rel="nofollow noopener noreferrer">a link</a>' in html


def test_raw_html_in_the_source_is_shown_as_text() -> None:
    html = markdown.render("<b>not bold</b> and <script>alert(1)</script>")

    assert "&lt;b&gt;not bold&lt;/b&gt;" in html
    assert "<script" not in html


def test_an_empty_or_oversized_body_is_refused() -> None:
    with pytest.raises(ValidationError):
        markdown.render("   \n")
    with pytest.raises(ValidationError):
        markdown.render("x" * (markdown.MAX_BODY_CHARS + 1))
    assert markdown.render("x" * markdown.MAX_BODY_CHARS)
