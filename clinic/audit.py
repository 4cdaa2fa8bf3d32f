"""The audit trail of patient data: who read or changed which patient's records.

Each request gets an id (RequestContextMiddleware) and its caller's address
(clinic.client_address, the same address the sign-in lockout counts by); selectors and
services call `audit` when they read or write patient data, and the entry picks up the
request's context from here. Outside a request (commands) the actor is "system".
"""

from clinic.client_address import client_ip
from clinic.models import AuditEvent
from clinic.request_context import current_request, request_id

__all__ = ["audit", "client_ip"]


def audit(action, record=None, *, patient=None, outcome=AuditEvent.Outcome.ALLOWED,
          object_type="", object_id="", actor_label=""):
    """Record one read or write of patient data."""
    request = current_request()
    user = getattr(request, "user", None) if request is not None else None
    staff = user if user is not None and user.is_authenticated else None
    return AuditEvent.objects.create(
        actor=staff,
        actor_label=actor_label or (staff.get_username() if staff else
                                    ("anonymous" if request is not None else "system")),
        patient=patient,
        action=action,
        object_type=object_type or (record._meta.model_name if record is not None else ""),
        object_id=str(object_id or (record.pk if record is not None else "")),
        outcome=outcome,
        ip_address=client_ip(request) if request is not None else None,
        request_id=request_id(),
    )
