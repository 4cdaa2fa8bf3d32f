"""Consent to a planned procedure: the exact text a patient reads, their signature on it,
and whether a signed consent still holds.

The text is built from the catalogue's consent text for the treatment, in the patient's
language; what they sign is checked, by its SHA-256, to be what they were shown. A signed
consent is kept as it was given: when the procedure, the plan's sharing or the consent text
changes later, it is superseded and the procedure needs consent again.
"""

import base64
import binascii
import hashlib

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from clinic.audit import audit, client_ip
from consultations.access import RecordedRefusal, atomic_recording_refusals, staff_change_check
from consultations.models import SignedConsent, TreatmentPlan
from treatments.models import TreatmentConsent
from treatments.snapshot import catalogue_version
from treatments.translations import translator

SIGNABLE_STATES = (TreatmentPlan.Status.SHARED, TreatmentPlan.Status.ACCEPTED)
SIGNATURE_PREFIX = "data:image/png;base64,"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_SIGNATURE_BYTES = 200_000


class ConsentError(Exception):
    def __init__(self, message, field=None):
        super().__init__(message)
        self.message = message
        self.field = field


class ConsentLinkRefused(RecordedRefusal, ConsentError):
    """The patient's link cannot be used to sign now; the message says why, for them."""


def procedure_fingerprint(procedure, plan):
    """What was planned, as the patient consented to it: the treatment, its sessions and
    dates, the note written for the patient, and the plan as it was shared."""
    parts = [plan.pk, procedure.pk, procedure.treatment.code, procedure.sessions,
             procedure.interval_weeks, procedure.first_date, procedure.patient_note,
             plan.shared_at and plan.shared_at.isoformat()]
    return hashlib.sha256("|".join(str(part) for part in parts).encode()).hexdigest()


def consent_document(procedure, language):
    """The consent text for a planned procedure exactly as the patient reads and signs it,
    in `language`, and its SHA-256; None when the treatment has no consent text."""
    consent = TreatmentConsent.objects.filter(treatment=procedure.treatment_id).first()
    if consent is None:
        return None
    translate = translator(language, [consent, procedure.treatment])
    with translation.override(language):
        lines = [translate(procedure.treatment, "name"),
                 _("Consent text, version %(version)d") % {"version": consent.version}, ""]
        for heading, text in consent.sections(translate):
            lines += [str(heading), text, ""]
        lines.append(_("I have read this, had the chance to ask questions, and agree to this "
                       "treatment as planned."))
    text = "\n".join(lines)
    return {"consent": consent, "text": text,
            "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()}


def consent_states(plan, procedures):
    """For each planned procedure (by id): 'none' (no consent text), 'needed', 'signed' or
    'superseded' (signed, then the procedure, the plan or the text changed), with the latest
    signed consent."""
    versions = dict(TreatmentConsent.objects.filter(
        treatment__in=[p.treatment_id for p in procedures]).values_list("treatment", "version"))
    latest = {}
    for consent in SignedConsent.objects.filter(plan=plan).order_by("signed_at", "id"):
        latest[consent.procedure_id] = consent
    states = {}
    for procedure in procedures:
        signed = latest.get(procedure.pk)
        if procedure.treatment_id not in versions:
            state = "none"
        elif signed is None:
            state = "needed"
        elif (signed.consent_version == versions[procedure.treatment_id]
              and signed.procedure_fingerprint == procedure_fingerprint(procedure, plan)):
            state = "signed"
        else:
            state = "superseded"
        states[procedure.pk] = (state, signed)
    return states


def _signature_checked(signature, typed_only):
    signature = (signature or "").strip()
    if typed_only:
        return ""
    if not signature:
        raise ConsentError(_("Sign in the box, or choose to sign with your typed name only."),
                           field="signature")
    if not _is_png_data_url(signature):
        raise ConsentError(_("The signature could not be read. Clear it and sign again."),
                           field="signature")
    return signature


def _is_png_data_url(text):
    """A PNG image as a data URL, within the size a drawn signature takes."""
    if not text.startswith(SIGNATURE_PREFIX) or len(text) > MAX_SIGNATURE_BYTES:
        return False
    try:
        image = base64.b64decode(text[len(SIGNATURE_PREFIX):], validate=True)
    except (binascii.Error, ValueError):
        return False
    return image.startswith(PNG_MAGIC)


def _same_name(typed, full_name):
    def norm(name):
        return " ".join(name.casefold().split())
    return norm(typed) == norm(full_name)


@atomic_recording_refusals
def consent_sign(*, request, plan, procedure, language, typed_name, agreed, signature,
                 typed_only, shown_sha256, link=None, handed_over_by=None):
    """Record the patient's consent to one planned procedure, exactly as they were shown it:
    from their own `link`, or on the clinic's screen `handed_over_by` a clinician.

    Refused when the link is revoked, expired or locked or the date of birth was not
    confirmed on it, when the clinician is not staff of the patient's clinic allowed to
    change plans, when the plan is not shared or accepted, the procedure is on hold, the
    text changed since it was shown, the typed name is not the patient's, the box is not
    ticked or there is neither a signature nor the choice of a typed name only.
    """
    from consultations.plan_services import link_actor, patient_link_check, plan_recheck

    if (link is None) == (handed_over_by is None):
        raise TypeError("consent_sign takes either the patient's link or the clinician who "
                        "handed the screen over")
    if link is not None:
        link = patient_link_check(link, action="sign_consent", refusal=ConsentLinkRefused)
        if link.plan_id != plan.pk:
            raise ConsentError(_("That procedure is not in this plan."))
    else:
        staff_change_check(user=handed_over_by, patient=plan.consultation.patient,
                           record=plan, action="sign_consent",
                           permission="consultations.change_treatmentplan")
    plan = TreatmentPlan.objects.select_for_update().select_related(
        "consultation__patient").get(pk=plan.pk)
    if plan.status not in SIGNABLE_STATES:
        raise ConsentError(_("This plan cannot be consented to now. Please contact the clinic."))
    if procedure.plan_id != plan.pk:
        raise ConsentError(_("That procedure is not in this plan."))
    if procedure.pk in plan_recheck(plan=plan):
        raise ConsentError(_("Your clinic is reviewing this treatment, so it cannot be "
                             "consented to yet. They will contact you."))
    document = consent_document(procedure, language)
    if document is None:
        raise ConsentError(_("This treatment has no consent text yet. Please ask the clinic."))
    if shown_sha256 != document["sha256"]:
        raise ConsentError(_("The consent text has changed since you opened it. Please read "
                             "it again before you sign."))
    patient = plan.consultation.patient
    typed_name = " ".join((typed_name or "").split())[:200]
    if not _same_name(typed_name, patient.full_name):
        raise ConsentError(_("Type your full name as the clinic has it: %(name)s.")
                           % {"name": patient.full_name}, field="typed_name")
    if not agreed:
        raise ConsentError(_("Tick the box to say you have read the text and agree."),
                           field="agreed")
    signature = _signature_checked(signature, typed_only)
    signed = SignedConsent.objects.create(
        plan=plan, procedure=procedure, treatment=procedure.treatment,
        consent_version=document["consent"].version,
        procedure_fingerprint=procedure_fingerprint(procedure, plan),
        catalogue_version=catalogue_version(), language=language, text=document["text"],
        text_sha256=document["sha256"], typed_name=typed_name, signature=signature,
        signed_at=timezone.now(), ip_address=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
        in_clinic=handed_over_by is not None, handed_over_by=handed_over_by)
    audit("sign_consent", plan, user=handed_over_by, patient=patient,
          actor_label=link_actor(link) if link is not None else "")
    return signed


@atomic_recording_refusals
def consent_seen(*, user, consent):
    """A clinician has seen a signed consent in the inbox (the record itself is unchanged)."""
    staff_change_check(user=user, patient=consent.plan.consultation.patient, record=consent,
                       action="consent_seen", permission="consultations.change_treatmentplan")
    if consent.seen_at is None:
        SignedConsent.objects.filter(pk=consent.pk, seen_at__isnull=True).update(
            seen_at=timezone.now())
        audit("consent_seen", consent.plan, user=user,
              patient=consent.plan.consultation.patient)
    return consent
