"""Progress arithmetic, verification codes and the certificate PDF (rendered here, read back with pypdf)."""

from __future__ import annotations

import base64
import io
import subprocess
import sys
from datetime import UTC, datetime

from pypdf import PdfReader

from infra.constants import API_PACKAGE
from lms import certificate_pdf
from lms.certificates import new_verification_code
from lms.learning import progress_percentage
from workflows import catalog

DOCUMENT = certificate_pdf.CertificateDocument(
    holder_name="Zoë Ångström-Łukasiewicz",
    course_title="Python for Beginners",
    instructor_name="Ivan Instructor",
    issued_at=datetime(2026, 11, 29, 7, 30, tzinfo=UTC),
    certificate_id="0f" * 16,
    verification_code="ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
    verify_url="https://lms.example.org/v1/certificates/verify/ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
)


def test_percentage_counts_the_current_lessons_rounded_down() -> None:
    lessons = {"a", "b", "c"}
    assert progress_percentage(set(), lessons) == 0
    assert progress_percentage({"a", "b"}, lessons) == 66, "100 only when every lesson is done"
    assert progress_percentage({"a", "b", "c"}, lessons) == 100
    assert progress_percentage({"a", "deleted"}, {"a", "b"}) == 50, (
        "completed lessons since deleted do not count"
    )
    assert progress_percentage({"a"}, set()) == 0, "a course without lessons cannot be completed"


def test_verification_codes_carry_at_least_128_random_bits() -> None:
    codes = {new_verification_code() for _ in range(500)}
    assert len(codes) == 500
    for code in codes:
        padded = code + "=" * (-len(code) % 8)
        assert len(base64.b32decode(padded)) * 8 >= 128
        assert code.isalnum() and code.upper() == code


def test_the_pdf_holds_the_certificate_with_embedded_fonts_and_stays_small() -> None:
    pdf = certificate_pdf.render(DOCUMENT)
    assert len(pdf) < 200 * 1024
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    text = page.extract_text()
    for printed in (
        DOCUMENT.holder_name,
        DOCUMENT.course_title,
        DOCUMENT.instructor_name,
        "29 November 2026",
    ):
        assert printed in text, printed
    assert DOCUMENT.verification_code in text and DOCUMENT.certificate_id in text
    fonts = page["/Resources"]["/Font"]
    descriptors = [fonts[name].get_object()["/FontDescriptor"].get_object() for name in fonts]
    assert descriptors and all("/FontFile2" in d for d in descriptors), "every font is embedded"


def test_the_layout_is_deterministic() -> None:
    assert certificate_pdf.render(DOCUMENT) == certificate_pdf.render(DOCUMENT)


def test_a_name_too_long_for_the_page_is_shortened_not_run_off_it() -> None:
    long = certificate_pdf.CertificateDocument(**{**DOCUMENT.__dict__, "holder_name": "Bartholomew " * 20})
    text = PdfReader(io.BytesIO(certificate_pdf.render(long))).pages[0].extract_text()
    assert "…" in text and "Bartholomew " * 20 not in text


def test_only_the_rendering_function_is_packaged_with_the_pdf_library() -> None:
    with_pdf = {
        fn.name
        for fn in catalog.all_functions().values()
        if "reportlab" in getattr(fn.packaging, "dependencies", ())
    }
    assert with_pdf == {"lms-certificate-render-certificate"}
    assert "reportlab" not in API_PACKAGE.dependencies


def test_the_api_and_the_other_tasks_never_import_the_pdf_library() -> None:
    """Imported in a fresh interpreter: a module-level import would also break their AWS packages."""
    script = """
import sys
import api.app, tasks.certificate, tasks.certificate_revocation, tasks.purchase, tasks.starter
api.app.get_app()
pdf = ("reportlab", "PIL")
loaded = sorted(m for m in sys.modules if m.split(".")[0] in pdf or m == "lms.certificate_pdf")
print(loaded)
assert not loaded, loaded
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
