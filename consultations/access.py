"""Who may change a clinic's records, asked by each service itself (whatever page, command or
job called it): the staff of the patient's clinic, in a role that allows the change.

A refusal leaves nothing half-written, and the audit trail keeps it as DENIED, naming who
asked and which record, as it keeps refused reads.
"""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.db import transaction

from clinic.audit import audit
from clinic.models import AuditEvent
from consultations.selectors import user_clinic_id


class RecordedRefusal(Exception):
    """A refusal the audit trail keeps: `entry` is what its DENIED entry says (the action,
    who asked, which record)."""

    def __init__(self, *args, entry, **kwargs):
        super().__init__(*args, **kwargs)
        self.entry = entry


class StaffNotAllowed(RecordedRefusal, PermissionDenied):
    """A change the staff member's role does not allow (403 where no page catches it)."""


class NotYourClinic(StaffNotAllowed):
    """A change aimed at another clinic's record."""


def atomic_recording_refusals(service):
    """Run the service in one transaction. When it refuses with a RecordedRefusal, what it
    had written is undone, and then the refusal is recorded (after the rollback, so the
    entry stays)."""
    in_transaction = transaction.atomic(service)

    @wraps(service)
    def run(*args, **kwargs):
        try:
            return in_transaction(*args, **kwargs)
        except RecordedRefusal as refusal:
            audit(**refusal.entry, outcome=AuditEvent.Outcome.DENIED)
            raise

    return run


def staff_change_check(*, user, permission, action, patient=None, record=None,
                       object_type=""):
    """Refuse a change to `patient`'s records (or a new patient, when None) by someone who
    is not staff of that clinic or whose role lacks `permission`."""
    entry = {"action": action, "user": user,
             "object_type": object_type or (record._meta.model_name if record else ""),
             "object_id": record.pk if record is not None and record.pk else ""}
    clinic_id = user_clinic_id(user)
    if clinic_id is None or (patient is not None and patient.clinic_id != clinic_id):
        raise NotYourClinic(entry=entry)
    if not user.has_perm(permission):
        raise StaffNotAllowed(entry=entry)
    return clinic_id
