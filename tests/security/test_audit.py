"""The audit trail of patient data, and logs that never carry it."""

import datetime
import logging

import pytest
from django.db import DatabaseError, connection, transaction
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clinic.middleware import RequestContextMiddleware
from clinic.models import AuditEvent, AuditTrailIsAppendOnly
from clinic.request_context import RequestIdLogFilter, request_context_reset, request_context_set
from consultations.models import Consultation, TreatmentPlan
from consultations.plan_services import plan_create, plan_procedure_add, plan_share
from tests.consultations.intake_data import complete_intake
from tests.factories import ConsultationFactory, PatientFactory, UserFactory
from treatments.models import Treatment

pytestmark = pytest.mark.django_db


def events(**filters):
    return list(AuditEvent.objects.filter(**filters).order_by("id").values_list(
        "action", "object_type", "outcome"))


class TestReadsAndWritesAreRecorded:
    def test_a_clinicians_work_on_a_patient_leaves_a_trail(self, client_as, clinician, clinic):
        client = client_as(clinician)
        client.post(reverse("consultations:patient-create"), {
            "full_name": "Ines Duarte", "date_of_birth": "1985-01-01",
            "preferred_language": "en"}, REMOTE_ADDR="10.1.2.3")
        patient = clinician.membership.clinic.patients.get()
        client.get(reverse("consultations:patient-detail", args=[patient.pk]))
        client.post(reverse("consultations:consultation-create", args=[patient.pk]),
                    complete_intake())

        trail = AuditEvent.objects.filter(patient=patient).order_by("id")
        assert [(e.action, e.object_type) for e in trail][:3] == [
            ("create", "patient"), ("view", "patient"), ("view", "patient")]
        assert ("submit", "consultation") in [(e.action, e.object_type) for e in trail]
        first = trail.first()
        assert first.actor == clinician and first.actor_label == clinician.username
        assert first.ip_address == "10.1.2.3"
        assert len(first.request_id) == 32
        assert first.outcome == "allowed"

    def test_the_request_id_is_the_one_the_response_names(self, client_as, clinician, clinic):
        patient = PatientFactory(clinic=clinic)

        response = client_as(clinician).get(reverse("consultations:patient-detail",
                                                    args=[patient.pk]))

        assert AuditEvent.objects.get(patient=patient).request_id == response["X-Request-ID"]

    def test_a_callers_request_id_is_kept_apart_from_the_servers(self, client_as, clinician,
                                                                 clinic):
        patient = PatientFactory(clinic=clinic)
        given = "proxy-trace-0001"

        response = client_as(clinician).get(reverse("consultations:patient-detail",
                                                    args=[patient.pk]),
                                            HTTP_X_REQUEST_ID=given)

        event = AuditEvent.objects.get(patient=patient)
        assert response["X-Request-ID"] != given and len(response["X-Request-ID"]) == 32
        assert event.request_id == response["X-Request-ID"]
        assert event.client_request_id == given

    @pytest.mark.parametrize("given", ["x" * 65, "two words", "line\nbreak", "ünïcode",
                                       "<script>", "a;b"])
    def test_a_callers_request_id_that_is_not_plain_is_dropped(self, client_as, clinician,
                                                               clinic, given):
        patient = PatientFactory(clinic=clinic)

        response = client_as(clinician).get(reverse("consultations:patient-detail",
                                                    args=[patient.pk]),
                                            HTTP_X_REQUEST_ID=given)

        event = AuditEvent.objects.get(patient=patient)
        assert event.client_request_id == ""
        assert event.request_id == response["X-Request-ID"] != given

    def test_logs_name_the_callers_request_id_as_such(self, rf):
        request = rf.get("/", HTTP_X_REQUEST_ID="proxy-trace-0002")
        RequestContextMiddleware(lambda request: HttpResponse())(request)
        record = logging.LogRecord("clinic", logging.INFO, __file__, 1, "seen", None, None)

        token = request_context_set(request)
        try:
            RequestIdLogFilter().filter(record)
        finally:
            request_context_reset(token)

        assert record.request_id == request.request_id != "proxy-trace-0002"
        assert record.client_request_id == "proxy-trace-0002"

    def test_a_refused_read_is_recorded_as_denied(self, client_as, clinician, other_clinic):
        stranger = PatientFactory(clinic=other_clinic)

        client_as(clinician).get(reverse("consultations:patient-detail", args=[stranger.pk]))

        event = AuditEvent.objects.get(action="view", outcome="denied")
        assert (event.object_type, event.object_id) == ("patient", str(stranger.pk))
        assert event.patient is None  # the denied caller learns nothing, nor does the row

    def test_the_patients_own_visits_are_recorded(self, client_as, clinician, clinic,
                                                  settings):
        settings.PLAN_LINK_RETRY_SECONDS = 0
        patient = PatientFactory(clinic=clinic, date_of_birth=datetime.date(1990, 1, 1))
        client_as(clinician).post(reverse("consultations:consultation-create",
                                          args=[patient.pk]), complete_intake())
        plan = plan_create(user=clinician, consultation=Consultation.objects.get())
        plan_procedure_add(user=clinician, plan=plan,
                           treatment=Treatment.objects.get(code="SILICONE_GEL"))
        link, token = plan_share(user=clinician, plan=plan, link_url=str)
        visitor = Client()

        visitor.post(f"/p/{token}/", {"date_of_birth": "1991-01-01"})
        visitor.post(f"/p/{token}/", {"date_of_birth": "1990-01-01"})
        visitor.get(f"/p/{token}/")
        visitor.get(f"/p/{token}/pdf/")

        trail = events(patient=patient, actor_label=f"patient link #{link.pk}")
        assert trail == [("verify", "treatmentplan", "denied"),
                         ("verify", "treatmentplan", "allowed"),
                         ("view", "treatmentplan", "allowed"),
                         ("pdf", "treatmentplan", "allowed")]


class TestWhoWasShown:
    """A page listing patients records which it showed, not only that it was opened."""

    def shown(self, action):
        entries = AuditEvent.objects.filter(action=action).order_by("id")
        assert all(e.object_type == "patient" and e.object_id == str(e.patient_id)
                   and e.outcome == "allowed" for e in entries)
        return [e.patient for e in entries]

    def test_the_dashboard_records_each_patient_it_names_once(self, client_as, clinician,
                                                              clinic, other_clinic):
        waiting = PatientFactory(clinic=clinic, full_name="Only In The Inbox")
        plan = plan_create(user=clinician, consultation=ConsultationFactory(
            patient=waiting, clinician=clinician, consultation_date=datetime.date(2026, 11, 2)))
        TreatmentPlan.objects.filter(pk=plan.pk).update(needs_review_since=timezone.now())
        recent = PatientFactory.create_batch(10, clinic=clinic)
        seen_today = ConsultationFactory(patient=recent[0], clinician=clinician)
        ConsultationFactory(patient=recent[0], clinician=clinician, status="draft")
        ConsultationFactory(patient=PatientFactory(clinic=other_clinic))
        before = AuditEvent.objects.count()

        page = client_as(clinician).get(reverse("clinic:home"))

        assert waiting.full_name in page.content.decode()
        assert seen_today in page.context["today"]
        shown = self.shown("dashboard")
        assert sorted(p.pk for p in shown) == sorted(p.pk for p in [waiting, *recent])
        assert AuditEvent.objects.count() - before == len(shown)
        assert {e.actor for e in AuditEvent.objects.filter(action="dashboard")} == {clinician}

    def test_the_patient_list_records_the_page_of_patients_it_shows(self, client_as,
                                                                   clinician, clinic):
        PatientFactory.create_batch(30, clinic=clinic)
        client = client_as(clinician)

        first = client.get(reverse("consultations:patient-list"))
        on_first = [p.pk for p in first.context["patients"]]
        assert [p.pk for p in self.shown("listed")] == on_first and len(on_first) == 25

        second = client.get(reverse("consultations:patient-list"), {"page": 2})
        on_second = [p.pk for p in second.context["patients"]]
        assert [p.pk for p in self.shown("listed")] == on_first + on_second
        assert len(on_second) == 5

    def test_a_search_records_only_the_patients_it_found(self, client_as, clinician, clinic,
                                                         other_clinic):
        found = PatientFactory(clinic=clinic, full_name="Amelia Stone")
        PatientFactory(clinic=clinic, full_name="Bruno Costa")
        PatientFactory(clinic=other_clinic, full_name="Amelia Other")

        client_as(clinician).post(reverse("consultations:patient-list"), {"q": "Amelia"})

        assert self.shown("listed") == [found]
        assert events(action="list") == [("list", "patient", "allowed")]

    def test_a_date_of_birth_try_during_the_wait_is_recorded_as_denied(
            self, client_as, clinician, clinic, settings):
        settings.PLAN_LINK_RETRY_SECONDS = 60
        patient = PatientFactory(clinic=clinic, date_of_birth=datetime.date(1990, 1, 1))
        plan = plan_create(user=clinician, consultation=ConsultationFactory(
            patient=patient, clinician=clinician))
        plan_procedure_add(user=clinician, plan=plan,
                           treatment=Treatment.objects.get(code="SILICONE_GEL"))
        link, token = plan_share(user=clinician, plan=plan, link_url=str)
        visitor = Client()

        visitor.post(f"/p/{token}/", {"date_of_birth": "1991-01-01"})
        waiting = visitor.post(f"/p/{token}/", {"date_of_birth": "1990-01-01"})

        assert "Please wait" in waiting.content.decode()
        assert events(patient=patient, actor_label=f"patient link #{link.pk}") == [
            ("verify", "treatmentplan", "denied"), ("verify", "treatmentplan", "denied")]


class TestAppendOnly:
    def test_the_app_refuses_to_change_or_delete_an_entry(self, client_as, clinician):
        client_as(clinician).get(reverse("consultations:patient-list"))
        event = AuditEvent.objects.get()

        event.action = "edited"
        with pytest.raises(AuditTrailIsAppendOnly):
            event.save()
        with pytest.raises(AuditTrailIsAppendOnly):
            event.delete()
        assert AuditEvent.objects.get().action == "list"

    @pytest.mark.skipif(connection.vendor != "postgresql",
                        reason="the append-only trigger is PostgreSQL's (CI runs it there)")
    def test_postgresql_refuses_to_change_or_delete_an_entry(self, client_as, clinician,
                                                              clinic):
        client_as(clinician).get(reverse("consultations:patient-list"))
        event = AuditEvent.objects.get()
        table = AuditEvent._meta.db_table

        for statement in (f"UPDATE {table} SET action = 'edited' WHERE id = %s",
                          f"DELETE FROM {table} WHERE id = %s"):
            with pytest.raises(DatabaseError, match="append-only"):
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(statement, [event.pk])

        event.refresh_from_db()
        assert event.action == "list"

    def test_admins_read_it_but_cannot_change_it(self, client_as, superuser, clinician):
        client_as(clinician).get(reverse("consultations:patient-list"))
        event = AuditEvent.objects.get()
        admin = client_as(superuser)

        listing = admin.get(reverse("admin:clinic_auditevent_changelist") + "?outcome=allowed")
        assert listing.status_code == 200 and clinician.username in listing.content.decode()
        assert admin.post(reverse("admin:clinic_auditevent_delete", args=[event.pk]),
                          {"post": "yes"}).status_code == 403

    def test_clinicians_and_catalogue_admins_cannot_read_it(self, client_as, clinician,
                                                            catalogue_admin):
        url = reverse("admin:clinic_auditevent_changelist")
        assert client_as(clinician).get(url).status_code == 403
        assert client_as(catalogue_admin).get(url).status_code == 403


MARKER = "Zq7MarkerXv"


def test_logs_carry_no_patient_data(client_as, clinician, clinic, caplog, settings):
    """Plant a marker in every patient field, use every page, and search every log line."""
    settings.PLAN_LINK_RETRY_SECONDS = 0
    caplog.set_level(logging.DEBUG)
    client = client_as(clinician)
    client.post(reverse("consultations:patient-create"), {
        "full_name": f"Ana {MARKER}", "date_of_birth": "1988-08-08",
        "phone": "+44 7700 900999", "email": f"{MARKER.lower()}@example.com",
        "preferred_language": "en"})
    patient = clinic.patients.get()
    client.post(reverse("consultations:consultation-create", args=[patient.pk]),
                complete_intake(clinician_notes=f"notes {MARKER}", condition_smoking="yes",
                                detail_smoking=f"detail {MARKER}"))
    consultation = Consultation.objects.get()
    client.get(reverse("consultations:consultation-detail", args=[consultation.pk]))
    client.get(reverse("consultations:consultation-recommendations", args=[consultation.pk]))
    plan = plan_create(user=clinician, consultation=consultation)
    plan_procedure_add(user=clinician, plan=plan, notes=f"plan {MARKER}",
                       treatment=Treatment.objects.get(code="SILICONE_GEL"))
    _link, token = plan_share(user=clinician, plan=plan, link_url=str)
    client.get(reverse("consultations:plan-detail", args=[plan.pk]))
    client.post(reverse("consultations:patient-list"), {"q": MARKER})
    visitor = Client()
    visitor.post(f"/p/{token}/", {"date_of_birth": "1999-09-09"})
    visitor.post(f"/p/{token}/", {"date_of_birth": "1988-08-08"})
    visitor.get(f"/p/{token}/")
    visitor.post(f"/p/{token}/question/", {"message": f"question {MARKER}"})
    client.get(reverse("consultations:patient-detail", args=[patient.pk + 999]))
    UserFactory(clinic=None, role=None)

    assert caplog.records, "nothing was logged: the test would prove nothing"
    leaks = [record.getMessage() for record in caplog.records
             if MARKER.lower() in record.getMessage().lower()
             or MARKER.lower() in str(record.args).lower()]
    assert leaks == []
