"""The audit trail of patient data: who read or changed which patient's records.

Each request gets an id and its caller's address (RequestContextMiddleware); selectors and
services call `audit` when they read or write patient data, and the entry picks up the
request's context from here. Outside a request (commands) the actor is "system".
"""

from clinic.models import AuditEvent
from clinic.request_context import client_request_id, current_request, request_id


def client_ip(request):
    """The caller's address. Behind a proxy, the web server must set REMOTE_ADDR correctly
    (see docs/deploy.md): X-Forwarded-For is not trusted here."""
    return request.META.get("REMOTE_ADDR") or None


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
        client_request_id=client_request_id(),
    )
