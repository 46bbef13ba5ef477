"""The fax channel: provider webhooks and fax-to-email gateways, document checks, OCR and ticket hints.

Typical use by the store/API layer::

    fax = parse_fax_webhook(body, headers, auth=..., now=clock.now())   # or fax_from_email(...)
    if isinstance(fax, Rejected):
        quarantine(fax.code, fax.reason, fax.raw)
    else:
        store(fax)  # the document is kept before it is read
        reading = await read_document(fax.document.data, limits=..., ocr=...)
        if isinstance(reading, Rejected):
            quarantine(...)
        else:
            hints = extract_ticket_hints(reading.text, default_region=...)
"""

from intake.channels.fax.document import (
    FAX_DOCUMENT_TYPES,
    DocumentInfo,
    DocumentLimits,
    PageInfo,
    inspect_document,
    render_pages,
)
from intake.channels.fax.extract import (
    DEFAULT_SERIAL_PATTERNS,
    TicketHints,
    extract_ticket_hints,
    find_fault_description,
    find_phone_numbers,
    find_serial_numbers,
    normalise_phone,
)
from intake.channels.fax.gateway import FaxGateway, fax_from_email
from intake.channels.fax.model import FaxDocument, InboundFax
from intake.channels.fax.ocr import DocumentText, OcrError, OcrSettings, ocr_image, read_document
from intake.channels.fax.tools import ToolLimits
from intake.channels.fax.webhook import (
    FaxWebhookAuth,
    FaxWebhookFields,
    FaxWebhookLimits,
    HmacSignatureAuth,
    SharedTokenAuth,
    authenticate_fax_webhook,
    parse_fax_webhook,
    read_fax_webhook,
)

__all__ = [
    "DEFAULT_SERIAL_PATTERNS",
    "FAX_DOCUMENT_TYPES",
    "DocumentInfo",
    "DocumentLimits",
    "DocumentText",
    "FaxDocument",
    "FaxGateway",
    "FaxWebhookAuth",
    "FaxWebhookFields",
    "FaxWebhookLimits",
    "HmacSignatureAuth",
    "InboundFax",
    "OcrError",
    "OcrSettings",
    "PageInfo",
    "SharedTokenAuth",
    "TicketHints",
    "ToolLimits",
    "authenticate_fax_webhook",
    "extract_ticket_hints",
    "fax_from_email",
    "find_fault_description",
    "find_phone_numbers",
    "find_serial_numbers",
    "inspect_document",
    "normalise_phone",
    "ocr_image",
    "parse_fax_webhook",
    "read_document",
    "read_fax_webhook",
    "render_pages",
]
