"""A PBX's CTI webhook body (form fields or JSON in the generic helpdesk shape) -> :class:`CtiEvent`.

The body is read before it is trusted: bounded in size and in the number of fields, decoded leniently,
and anything that is not one telephony event gives :class:`Rejected` with the raw body kept for the
quarantine. Authentication (shared token or HMAC signature) is the fax webhook's
(:func:`intake.channels.fax.authenticate_fax_webhook`), with the hotline's own secrets and headers.
"""

from __future__ import annotations

import json
from datetime import datetime
from urllib.parse import parse_qs

from intake.channels.outcome import Rejected
from intake.domain.cti import CtiEvent
from kit.domain import DomainError

MAX_BODY_BYTES = 64 * 1024
MAX_FIELDS = 100


def read_cti_request(body: bytes, content_type: str, *, received_at: datetime) -> CtiEvent | Rejected:
    """One CTI event from a webhook body; never raises."""
    if len(body) > MAX_BODY_BYTES:
        return Rejected(
            "payload-too-large", f"the body is {len(body)} bytes; the limit is {MAX_BODY_BYTES}", body
        )
    media_type = content_type.split(";", 1)[0].strip().lower()
    try:
        if media_type == "application/json":
            params = json.loads(body)
            if not isinstance(params, dict):
                return Rejected("bad-cti-event", "the JSON body is not an object", body)
        elif media_type in ("application/x-www-form-urlencoded", ""):
            text = body.decode("utf-8", "replace")
            params = {
                key: values if len(values) > 1 or key.endswith("[]") else values[0]
                for key, values in parse_qs(text, keep_blank_values=True, max_num_fields=MAX_FIELDS).items()
            }
        else:
            return Rejected(
                "unsupported-media-type",
                f"expected form fields or JSON, not {media_type[:60]!r}",
                body,
            )
        if len(params) > MAX_FIELDS:
            return Rejected("bad-cti-event", f"the event has more than {MAX_FIELDS} fields", body)
        return CtiEvent.from_params(params, received_at=received_at)
    except DomainError as exc:
        return Rejected(str(exc.code), exc.detail, body)
    except (ValueError, RecursionError, OverflowError) as exc:
        return Rejected("bad-cti-event", f"the body could not be read ({type(exc).__name__})", body)
