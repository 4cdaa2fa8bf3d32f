"""The audit trail of patient data: who read or changed which patient's records.

Each request gets an id (RequestContextMiddleware) and its caller's address
(clinic.client_address, the same address the sign-in lockout counts by); selectors and
services call `audit` when they read or write patient data, naming the staff member they
act for (`user`), so a command or a job that writes for a clinician records that clinician.
The entry picks up only the request's address and id from here. A patient's link or a
background check names itself (`actor_label`); with neither, the actor is "anonymous" inside
a request and "system" outside one.
"""

from clinic.client_address import client_ip
from clinic.models import AuditEvent
from clinic.request_context import client_request_id, current_request, request_id

__all__ = ["audit", "client_ip"]


def audit(action, record=None, *, user=None, patient=None, outcome=AuditEvent.Outcome.ALLOWED,
          object_type="", object_id="", actor_label=""):
    """Record one read or write of patient data by `user`, the staff member acting (None for
    a patient's link or a background check, which `actor_label` names)."""
    entry = audit_entry(action, record, user=user, patient=patient, outcome=outcome,
                        object_type=object_type, object_id=object_id, actor_label=actor_label)
    entry.save()
    return entry


def audit_entry(action, record=None, *, user=None, patient=None,
                outcome=AuditEvent.Outcome.ALLOWED, object_type="", object_id="",
                actor_label=""):
    """The entry `audit` writes, not yet written."""
    request = current_request()
    staff = user if user is not None and user.is_authenticated else None
    return AuditEvent(
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


def audit_shown(action, patients, *, user):
    """Record that a page listing patients (a dashboard, a search) showed these to `user`:
    one entry per patient, however many of its rows named them."""
    shown = {}
    for patient in patients:
        shown.setdefault(patient.pk, patient)
    AuditEvent.append_all(audit_entry(action, patient, user=user, patient=patient)
                          for patient in shown.values())
