"""The certificate PDF: ReportLab (BSD) with its bundled Bitstream Vera fonts, embedded; its own QR code.

Only the RenderCertificate function's package carries ReportLab (``workflows/certificate.py``); the
API and every other task never import this module (``tests/unit/test_certificate_packaging.py``).
The layout is deterministic: ``invariant=True`` fixes the document id and dates ReportLab would
otherwise stamp, so the same certificate always renders to the same bytes.
"""

from __future__ import annotations

import functools
import io
import itertools
from dataclasses import dataclass
from datetime import datetime

from reportlab.graphics.barcode import qrencoder
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

CONTENT_TYPE = "application/pdf"
REGULAR, BOLD = "Vera", "VeraBd"
_INK, _ACCENT = HexColor("#1f2933"), HexColor("#2f6f8f")


@dataclass(frozen=True)
class CertificateDocument:
    holder_name: str
    course_title: str
    instructor_name: str
    issued_at: datetime
    certificate_id: str
    verification_code: str
    verify_url: str
    # The signed Open Badges credential (issue 20): its holder downloads it there to share it.
    credential_url: str = ""


@functools.cache
def _fonts() -> None:
    # TrueType fonts are embedded (subset) in the PDF; the standard 14 fonts (the canvas default
    # Helvetica included, hence initialFontName) would not be.
    pdfmetrics.registerFont(TTFont(REGULAR, "Vera.ttf"))
    pdfmetrics.registerFont(TTFont(BOLD, "VeraBd.ttf"))


def render(document: CertificateDocument) -> bytes:
    _fonts()
    buffer = io.BytesIO()
    width, height = landscape(A4)
    pdf = canvas.Canvas(
        buffer, pagesize=(width, height), invariant=True, pageCompression=1, initialFontName=REGULAR
    )
    pdf.setTitle(f"Certificate of completion: {document.course_title}")
    pdf.setAuthor("LMS")
    pdf.setStrokeColor(_ACCENT)
    pdf.setLineWidth(4)
    pdf.rect(28, 28, width - 56, height - 56)
    pdf.setFillColor(_ACCENT)
    pdf.setFont(BOLD, 34)
    pdf.drawCentredString(width / 2, height - 120, "Certificate of Completion")
    pdf.setFillColor(_INK)
    pdf.setFont(REGULAR, 15)
    pdf.drawCentredString(width / 2, height - 170, "This certifies that")
    pdf.setFont(BOLD, 28)
    pdf.drawCentredString(width / 2, height - 215, _fit(document.holder_name, BOLD, 28, width - 120))
    pdf.setFont(REGULAR, 15)
    pdf.drawCentredString(width / 2, height - 255, "has completed the course")
    pdf.setFont(BOLD, 22)
    pdf.drawCentredString(width / 2, height - 295, _fit(document.course_title, BOLD, 22, width - 120))
    pdf.setFont(REGULAR, 13)
    if document.instructor_name:
        pdf.drawCentredString(width / 2, height - 330, f"taught by {document.instructor_name}")
    pdf.drawCentredString(width / 2, height - 352, f"Issued on {document.issued_at:%d %B %Y} (UTC)")
    pdf.setFont(REGULAR, 9)
    pdf.drawString(60, 96, f"Certificate id: {document.certificate_id}")
    pdf.drawString(60, 80, f"Verification code: {document.verification_code}")
    pdf.drawString(60, 64, f"Verify at: {document.verify_url}")
    _qr(pdf, document.verify_url, x=width - 190, y=50, size=130)
    if document.credential_url:
        pdf.drawString(60, 48, f"Verifiable credential: {document.credential_url}")
        pdf.drawCentredString(width - 265, 156, "Credential")
        _qr(pdf, document.credential_url, x=width - 320, y=50, size=100)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _fit(text: str, font: str, size: float, width: float) -> str:
    """Shorten text that would run off the page (a very long name or title)."""
    if pdfmetrics.stringWidth(text, font, size) <= width:
        return text
    while text and pdfmetrics.stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def _qr(pdf: canvas.Canvas, data: str, *, x: float, y: float, size: float) -> None:
    """The QR code's dark modules as filled rectangles, straight on the canvas (the graphics renderer
    would register a default Helvetica font, which is not embedded)."""
    code = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    code.addData(data)
    code.make()
    count, border = code.getModuleCount(), 2
    box = size / (count + 2 * border)
    pdf.setFillColor(_INK)
    for row_index, row in enumerate(code.modules):
        column = 0
        for dark, run in itertools.groupby(bool(module) for module in row):
            length = len(list(run))
            if dark:
                top = y + size - (row_index + border + 1) * box
                pdf.rect(x + (column + border) * box, top, length * box, box, stroke=0, fill=1)
            column += length
