"""Every URL the app serves, requested as every kind of visitor, against a declared table.

A URL added without an entry here fails `test_every_url_is_declared`. Each request runs in
a savepoint that is rolled back, so that no request changes what the next one sees.
"""

import datetime
from fnmatch import fnmatch
from urllib.parse import urlsplit

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test import Client
from django.urls import get_resolver, reverse
from django.urls.resolvers import URLResolver
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.roles import CATALOGUE_ADMIN, CLINICIAN
from clinic.services import backup_codes_regenerate, enrolment_code_issue
from consultations.models import (
    Consultation,
    PlannedProcedure,
    PlanQuestion,
    PlanShareLink,
    SignedConsent,
)
from consultations.plan_services import plan_create, plan_procedure_add, plan_share
from tests.consultations.intake_data import complete_intake
from tests.factories import PatientFactory, UserFactory
from treatments.models import Treatment

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "clinician_a", "clinician_b", "catalogue_admin", "superuser",
         "link_valid", "link_expired", "link_revoked"]
STAFF = ["clinician_a", "clinician_b", "catalogue_admin", "superuser"]
LINKS = ["link_valid", "link_expired", "link_revoked"]
VISITORS = ["anonymous", *LINKS]

# What each visitor gets: ok (2xx or a redirect that is not the sign-in page), login
# (redirect to sign-in), forbidden (403), not_found (404), gone (410).
CLINIC_PAGE = {**{r: "login" for r in VISITORS}, "clinician_a": "ok",
               "clinician_b": "not_found", "catalogue_admin": "forbidden",
               "superuser": "not_found"}
CLINIC_LIST = {**CLINIC_PAGE, "clinician_b": "ok", "superuser": "ok"}
PATIENT_PAGE = {**{r: "ok" for r in STAFF}, "anonymous": "not_found", "link_valid": "ok",
                "link_expired": "gone", "link_revoked": "gone"}
STAFF_ONLY = {**{r: "login" for r in VISITORS}, **{r: "ok" for r in STAFF}}
ADMIN_OUTSIDERS = {**{r: "login" for r in VISITORS}, "clinician_a": "forbidden",
                   "clinician_b": "forbidden"}


def admin_access(catalogue_admin, superuser):
    return {**ADMIN_OUTSIDERS, "catalogue_admin": catalogue_admin, "superuser": superuser}

PUBLIC = {r: "ok" for r in ROLES}

ACCESS = {
    "clinic:home": {**STAFF_ONLY},
    "clinic:sign-in": PUBLIC,
    # Signing out always lands on the sign-in page (requested last: it ends the session).
    "clinic:sign-out": {r: "login" for r in ROLES},
    "clinic:two-factor": STAFF_ONLY,
    "clinic:two-factor-setup": STAFF_ONLY,
    "clinic:two-factor-link": STAFF_ONLY,
    "clinic:backup-codes": STAFF_ONLY,
    "clinic:healthz": PUBLIC,
    "treatments:treatment-list": STAFF_ONLY,
    "treatments:treatment-detail": STAFF_ONLY,
    "consultations:patient-list": CLINIC_LIST,
    "consultations:patient-create": {**CLINIC_LIST},
    "consultations:patient-detail": CLINIC_PAGE,
    "consultations:patient-edit": CLINIC_PAGE,
    "consultations:consultation-create": CLINIC_PAGE,
    "consultations:consultation-detail": CLINIC_PAGE,
    "consultations:consultation-edit": CLINIC_PAGE,
    "consultations:consultation-history": CLINIC_PAGE,
    "consultations:consultation-recommendations": CLINIC_PAGE,
    "consultations:plan-create": CLINIC_PAGE,
    "consultations:plan-detail": CLINIC_PAGE,
    "consultations:plan-procedure-add": CLINIC_PAGE,
    "consultations:plan-procedure-edit": CLINIC_PAGE,
    "consultations:plan-preview": CLINIC_PAGE,
    "consultations:plan-question-answer": CLINIC_PAGE,
    "consultations:plan-consent": CLINIC_PAGE,
    "consultations:plan-consent-sign": CLINIC_PAGE,
    "consultations:plan-consent-handback": CLINIC_PAGE,
    "consultations:plan-consent-pdf": CLINIC_PAGE,
    "consultations:plan-consent-seen": CLINIC_PAGE,
    "consultations:plan-acceptance-seen": CLINIC_PAGE,
    "consultations:plan-procedure-remove": CLINIC_PAGE,
    "consultations:plan-status": CLINIC_PAGE,
    "consultations:plan-review": CLINIC_PAGE,
    "consultations:plan-share": CLINIC_PAGE,
    "consultations:plan-link-revoke": CLINIC_PAGE,
    "patients:plan": PATIENT_PAGE,
    "patients:accept": PATIENT_PAGE,
    "patients:question": PATIENT_PAGE,
    "patients:pdf": PATIENT_PAGE,
    "patients:consent": PATIENT_PAGE,
    "patients:consent-pdf": PATIENT_PAGE,
    # The admin (first matching entry wins): catalogue admins keep the catalogue; only
    # superusers see staff accounts, clinics, sign-in records and the audit trail.
    "admin:login": admin_access("ok", "ok"),
    "admin:logout": {**ADMIN_OUTSIDERS, "catalogue_admin": "login", "superuser": "login"},
    "admin:autocomplete": admin_access("forbidden", "forbidden"),  # no field asked for
    "admin:view_on_site": admin_access("ok", "ok"),
    "admin:index": admin_access("ok", "ok"),
    "admin:app_list": admin_access("ok", "ok"),  # asked for the treatments app
    "admin:jsi18n": admin_access("ok", "ok"),
    "admin:password_change*": admin_access("ok", "ok"),
    # Histories are written by the app, never by hand.
    "admin:treatments_cataloguechange_add": admin_access("forbidden", "forbidden"),
    "admin:treatments_cataloguechange_delete": admin_access("forbidden", "forbidden"),
    "admin:clinic_auditevent_add": admin_access("forbidden", "forbidden"),
    "admin:consultations_signedconsent_add": admin_access("forbidden", "forbidden"),
    "admin:consultations_signedconsent_delete": admin_access("forbidden", "forbidden"),
    "admin:clinic_auditevent_delete": admin_access("forbidden", "forbidden"),
    "admin:clinic_enrolmentcode_add": admin_access("forbidden", "forbidden"),
    "admin:clinic_enrolmentcode_delete": admin_access("forbidden", "forbidden"),
    # Nobody, superusers included, is shown an authenticator's key again.
    "admin:otp_totp_totpdevice_config": admin_access("forbidden", "forbidden"),
    "admin:otp_totp_totpdevice_qrcode": admin_access("forbidden", "forbidden"),
    "admin:clinic_outgoingemail_add": admin_access("forbidden", "forbidden"),
    "admin:clinic_outgoingemail_delete": admin_access("forbidden", "forbidden"),
    "admin:axes_*_add": admin_access("forbidden", "forbidden"),
    "admin:treatments_*": admin_access("ok", "ok"),
    "admin:*": admin_access("forbidden", "ok"),
}
# Query strings some pages need to show anything.
QUERY = {"consultations:plan-procedure-add": "?treatment=SILICONE_GEL"}
# Requested last, in this order: they end the session.
SESSION_ENDERS = ["admin:logout", "clinic:sign-out"]
# Views that only take POST are requested with POST; the rest with GET.
POST_ONLY = {"clinic:sign-out", "consultations:plan-create", "consultations:plan-procedure-remove",
             "consultations:plan-status", "consultations:plan-share",
             "consultations:plan-link-revoke", "consultations:plan-question-answer",
             "consultations:plan-acceptance-seen", "consultations:plan-consent-seen",
             "patients:accept", "patients:question",
             "admin:logout"}


def url_names():
    def walk(patterns, namespace=None):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = pattern.namespace
                yield from walk(pattern.url_patterns,
                                f"{namespace}:{inner}" if namespace and inner else
                                inner or namespace)
            elif pattern.name:
                yield (f"{namespace}:{pattern.name}" if namespace else pattern.name,
                       pattern)
    return list(walk(get_resolver().url_patterns))


def expectation(name):
    for glob, table in ACCESS.items():
        if fnmatch(name, glob):
            return table
    return None


def test_every_url_is_declared():
    undeclared = [name for name, _pattern in url_names() if expectation(name) is None]
    assert undeclared == []


@pytest.fixture
def world(clinic, other_clinic):
    """Clinic A's patient with a submitted intake, a shared plan and links in every state."""
    clinician_a = UserFactory(clinic=clinic, role=CLINICIAN)
    users = {
        "clinician_a": clinician_a,
        "clinician_b": UserFactory(clinic=other_clinic, role=CLINICIAN),
        "catalogue_admin": UserFactory(clinic=clinic, role=CATALOGUE_ADMIN),
        "superuser": UserFactory(clinic=None, is_superuser=True, is_staff=True),
    }
    # Records for every admin page to show: an authenticator, backup codes, an enrolment
    # code, a failed sign-in.
    TOTPDevice.objects.create(user=users["superuser"], name="Phone", confirmed=True)
    backup_codes_regenerate(user=users["superuser"])
    enrolment_code_issue(user=users["superuser"], account=clinician_a)
    AccessAttempt.objects.create(username="someone", ip_address="127.0.0.1",
                                 user_agent="test", failures_since_start=1)
    AccessFailureLog.objects.create(username="someone", ip_address="127.0.0.1",
                                    user_agent="test")
    patient = PatientFactory(clinic=clinic, date_of_birth=datetime.date(1990, 5, 5))
    client = Client()
    client.force_login(clinician_a)
    client.post(reverse("consultations:consultation-create", args=[patient.pk]),
                complete_intake())
    consultation = Consultation.objects.get(patient=patient)
    plan = plan_create(user=clinician_a, consultation=consultation)
    plan_procedure_add(user=clinician_a, plan=plan,
                       treatment=Treatment.objects.get(code="SILICONE_GEL"))
    tokens = {}
    for role in ("link_revoked", "link_expired", "link_valid"):
        # The first one emailed, so that the outgoing email list has a row to show.
        link, tokens[role] = plan_share(user=clinician_a, plan=plan, link_url=str,
                                        email=role == "link_revoked")
        if role == "link_expired":
            PlanShareLink.objects.filter(pk=link.pk).update(
                revoked_at=None, expires_at=timezone.now() - datetime.timedelta(days=1))
    return {"users": users, "patient": patient, "consultation": consultation, "plan": plan,
            "procedure": PlannedProcedure.objects.get(plan=plan),
            "link": PlanShareLink.objects.filter(plan=plan, revoked_at__isnull=True,
                                                 expires_at__gt=timezone.now()).get(),
            "tokens": tokens,
            "question": PlanQuestion.objects.create(plan=plan, message="How long is the redness?"),
            "consent": SignedConsent.objects.create(
                plan=plan, procedure=PlannedProcedure.objects.get(plan=plan),
                treatment=Treatment.objects.get(code="SILICONE_GEL"), consent_version=1,
                procedure_fingerprint="0" * 64, catalogue_version=1, language="en",
                text="Consent text", text_sha256="0" * 64, typed_name="A Patient",
                signed_at=timezone.now())}


def visitor_for(role, world):
    client = Client()
    if role in world["users"]:
        client.force_login(world["users"][role])
    if role == "link_valid":
        client.post(f"/p/{world['tokens']['link_valid']}/",
                    {"date_of_birth": world["patient"].date_of_birth.isoformat()})
    return client


def url_for(name, pattern, role, world):
    if name.startswith("admin:"):
        return admin_url(name, pattern)
    kwargs = dict.fromkeys(pattern.pattern.converters)
    values = {
        "code": "CO2_FRAC",
        "procedure_pk": world["procedure"].pk,
        "link_pk": world["link"].pk,
        "question_pk": world["question"].pk,
        "consent_pk": world["consent"].pk,
        "patient_pk": world["patient"].pk,
        "token": world["tokens"].get(role) or world["tokens"]["link_valid"]
        if role != "anonymous" else "x" * 43,
    }
    pk_of = {"patient": world["patient"].pk, "consultation": world["consultation"].pk,
             "plan": world["plan"].pk}
    for key in kwargs:
        if key == "pk":
            # plan-create hangs off a consultation; other names say what their pk is.
            owner = ("consultation" if name == "consultations:plan-create"
                     else name.split(":")[1].split("-")[0])
            kwargs[key] = pk_of[owner]
        else:
            kwargs[key] = values[key]
    return reverse(name, kwargs=kwargs) + QUERY.get(name, "")


def admin_url(name, pattern):
    keys = set(pattern.pattern.regex.groupindex) | set(pattern.pattern.converters)
    if not keys:
        return reverse(name)
    if "app_label" in keys:
        return reverse(name, kwargs={"app_label": "treatments"})
    if "content_type_id" in keys:
        treatment = Treatment.objects.first()
        return reverse(name, kwargs={"content_type_id":
                                     ContentType.objects.get_for_model(Treatment).pk,
                                     "object_id": treatment.pk})
    model = next(model for model in admin.site._registry
                 if name.startswith(f"admin:{model._meta.app_label}_{model._meta.model_name}_"))
    obj = model._default_manager.order_by("pk").first()
    return reverse(name, kwargs={key: obj.pk if obj else 0 for key in keys})


def outcome(response):
    status = response.status_code
    if status in (301, 302):
        signing_in = {reverse("clinic:sign-in"), reverse("admin:login")}
        return "login" if urlsplit(response.url).path in signing_in else "ok"
    return {200: "ok", 403: "forbidden", 404: "not_found", 410: "gone"}.get(status, str(status))


@pytest.mark.parametrize("role", ROLES)
def test_every_url_answers_each_visitor_as_declared(world, role):
    client = visitor_for(role, world)
    mismatches = []
    def last_if_ending(item):
        name = item[0]
        return SESSION_ENDERS.index(name) + 1 if name in SESSION_ENDERS else 0

    for name, pattern in sorted(url_names(), key=last_if_ending):
        expected = expectation(name)[role]
        url = url_for(name, pattern, role, world)
        savepoint = transaction.savepoint()
        try:
            method = client.post if name in POST_ONLY else client.get
            response = method(url)
            got = outcome(response)
        finally:
            transaction.savepoint_rollback(savepoint)
        if got != expected:
            mismatches.append((name, url, expected, got))
        elif (role in STAFF and name not in SESSION_ENDERS
              and "no-store" not in response.get("Cache-Control", "")):
            # Nothing shown to a signed-in person is kept by a browser or a proxy.
            mismatches.append((name, url, "no-store", response.get("Cache-Control")))
    assert mismatches == [], "\n".join(f"{name} {url}: expected {want}, got {got}"
                                        for name, url, want, got in mismatches)
