"""Text from fax pages with the tesseract OCR engine, run as a confined subprocess with a timeout."""

from __future__ import annotations

from dataclasses import dataclass, field

from intake.channels.fax.document import DocumentLimits, inspect_document, render_pages
from intake.channels.fax.tools import ToolError, ToolLimits, run_tool
from intake.channels.outcome import Rejected


class OcrError(Exception):
    """The OCR engine is missing, timed out or failed. The document is fine; try again later."""


@dataclass(frozen=True, slots=True)
class OcrSettings:
    """``language`` is tesseract's (``eng``, ``deu``, ``eng+deu``); the language data must be installed."""

    language: str = "eng"
    page_segmentation_mode: int = 3
    tools: ToolLimits = field(default_factory=lambda: ToolLimits(timeout_seconds=60.0))


@dataclass(frozen=True, slots=True)
class DocumentText:
    """The OCR text of each page of a document, in page order."""

    pages: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n\n".join(page.strip() for page in self.pages if page.strip())


async def ocr_image(image: bytes, settings: OcrSettings | None = None) -> str:
    """OCR one page image (PNG, TIFF or JPEG bytes). Raises :class:`OcrError` when the engine fails."""
    settings = settings or OcrSettings()
    argv = [
        "tesseract",
        "stdin",
        "stdout",
        "-l",
        settings.language,
        "--psm",
        str(settings.page_segmentation_mode),
    ]
    try:
        result = await run_tool(argv, limits=settings.tools, stdin=image)
    except ToolError as exc:
        raise OcrError(str(exc)) from exc
    if result.returncode != 0:
        detail = result.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        raise OcrError(f"tesseract failed with status {result.returncode}: {detail[0][:200]}")
    return result.stdout.decode("utf-8", "replace")


async def read_document(
    data: bytes, *, limits: DocumentLimits | None = None, ocr: OcrSettings | None = None
) -> DocumentText | Rejected:
    """Inspect, render and OCR a fax document, page by page.

    A hostile or unreadable document gives ``Rejected`` (quarantine it); an OCR engine failure raises
    :class:`OcrError` (keep the document, retry the reading later).
    """
    info = await inspect_document(data, limits)
    if isinstance(info, Rejected):
        return info
    images = await render_pages(data, info, limits)
    if isinstance(images, Rejected):
        return images
    pages = [await ocr_image(image, ocr) for image in images]  # one at a time: OCR is CPU-bound
    return DocumentText(tuple(pages))
