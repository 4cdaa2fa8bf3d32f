"""Email that survives a mail server or a worker going down.

An action that emails (sharing a plan, a patient's question, a clinician's answer) calls
`outgoing_email_queue` inside its own transaction: the email becomes a row of
OutgoingEmail, saved or rolled back with the action. Once the transaction commits, the task
queue (django-q2, on this database) runs `outgoing_email_send`, which claims the row, hands
the message to the mail server and marks it sent. A failure is tried again later, with a
pause that doubles each time; after EMAIL_MAX_ATTEMPTS the row is marked failed and shows in
the admin's list of outgoing email. `outgoing_email_sweep` (every minute, and whenever a
worker starts) hands out again any row that is due: a retry, a row whose task was lost, or a
send that a stopped worker never finished.

Each email keeps one Message-ID from the first attempt on, so a receiving server can tell a
repeat of the same notice from a new one.
"""

import datetime
import logging
from functools import partial

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.message import make_msgid
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from clinic.models import OutgoingEmail

logger = logging.getLogger(__name__)

SWEEP_SCHEDULE_NAME = "Outgoing email: send what is due"
SEND_TASK = "clinic.mail.outgoing_email_send"
SWEEP_TASK = "clinic.mail.outgoing_email_sweep"


def single_line(text):
    """A header's text on one line: a line break in a clinic's name (or anywhere else)
    becomes a space, so it can neither break the message's headers nor stop it."""
    return " ".join(str(text).split())


def message_id_new():
    sender = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip("> ") or "clinic.localhost"
    return make_msgid(domain=sender)


def outgoing_email_queue(*, kind, clinic, recipient, language, subject, body):
    """Keep an email to send once the current transaction commits (none if it rolls back).

    Callers render the subject and body in the recipient's language; the subject is put
    on one line here, whatever the names in it hold.
    """
    email = OutgoingEmail.objects.create(
        kind=kind, clinic=clinic, recipient=recipient, language=language,
        subject=single_line(subject)[:300], body=body, message_id=message_id_new(),
        next_attempt_at=timezone.now())
    # robust: a queue that cannot be reached right after the commit must not turn a saved
    # question into an error page; the sweep hands the row out later.
    transaction.on_commit(partial(outgoing_email_enqueue, email_id=email.pk), robust=True)
    return email


def outgoing_email_enqueue(*, email_id):
    from django_q.tasks import async_task

    async_task(SEND_TASK, email_id, task_name=f"outgoing-email-{email_id}")


def retry_delay(attempts):
    """Seconds to wait after the given number of failed attempts: doubling, with a cap."""
    return min(settings.EMAIL_RETRY_SECONDS * 2 ** (attempts - 1),
               settings.EMAIL_RETRY_MAX_SECONDS)


def claimable(now):
    """Rows a worker may take: waiting and due, or left mid-send by a worker that stopped."""
    return (Q(status=OutgoingEmail.Status.PENDING, next_attempt_at__lte=now)
            | Q(status=OutgoingEmail.Status.SENDING,
                claimed_at__lt=now - datetime.timedelta(seconds=settings.EMAIL_CLAIM_SECONDS)))


def outgoing_email_send(email_id):
    """Send one outgoing email, unless it was sent already or another worker has it.

    Claiming is a single conditional update (it works alike on PostgreSQL and SQLite): of
    two workers handed the same row, one claims it and the other finds nothing to do.
    Returns what happened: "sent", "retry", "failed" or "skipped".
    """
    now = timezone.now()
    claimed = OutgoingEmail.objects.filter(claimable(now), pk=email_id).update(
        status=OutgoingEmail.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return "skipped"
    email = OutgoingEmail.objects.get(pk=email_id)
    ours = OutgoingEmail.objects.filter(pk=email_id, status=OutgoingEmail.Status.SENDING,
                                        claimed_at=now)
    message = EmailMessage(subject=email.subject, body=email.body, from_email=None,
                           to=[email.recipient], headers={"Message-ID": email.message_id})
    try:
        message.send()
    except Exception as error:  # whatever the mail server or the connection raised
        reason = single_line(f"{type(error).__name__}: {error}")[:500]
        if email.attempts >= settings.EMAIL_MAX_ATTEMPTS:
            # A plan link that never left is not kept: the clinic shares the plan again.
            ours.update(status=OutgoingEmail.Status.FAILED, last_error=reason, claimed_at=None,
                        body="")
            # The reason stays in the row (it may name the recipient); logs carry no
            # patient data.
            logger.error("Outgoing email #%s failed after %s attempts (%s)", email_id,
                         email.attempts, type(error).__name__)
            return "failed"
        ours.update(status=OutgoingEmail.Status.PENDING, last_error=reason, claimed_at=None,
                    next_attempt_at=timezone.now() + datetime.timedelta(
                        seconds=retry_delay(email.attempts)))
        logger.warning("Outgoing email #%s not sent (attempt %s, %s); tried again later",
                       email_id, email.attempts, type(error).__name__)
        return "retry"
    ours.update(status=OutgoingEmail.Status.SENT, sent_at=timezone.now(), claimed_at=None,
                body="")
    return "sent"


def outgoing_email_sweep(limit=500):
    """Hand out again every row that is due; returns how many."""
    due = list(OutgoingEmail.objects.filter(claimable(timezone.now()))
               .order_by("next_attempt_at").values_list("pk", flat=True)[:limit])
    for email_id in due:
        outgoing_email_enqueue(email_id=email_id)
    return len(due)


def sweep_schedule_sync():
    """The queue's schedule runs the sweep every minute (made once, after migrating)."""
    from django_q.models import Schedule

    Schedule.objects.update_or_create(
        name=SWEEP_SCHEDULE_NAME,
        defaults={"func": SWEEP_TASK, "schedule_type": Schedule.MINUTES, "minutes": 1,
                  "repeats": -1})


def sweep_schedule_after_migrate(sender, **kwargs):
    sweep_schedule_sync()


def sweep_when_worker_starts(sender, proc_name=None, **kwargs):
    """A worker that starts sends what waited while none was running (or was killed)."""
    from django_q.conf import Conf

    if Conf.SYNC:  # tasks run in the caller's process (tests): no worker is starting
        return
    try:
        outgoing_email_sweep()
    except Exception:  # the database may not be reachable yet; the schedule runs it later
        logger.exception("Outgoing email sweep at worker start failed")
