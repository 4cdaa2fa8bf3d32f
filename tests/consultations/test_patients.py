"""Clinicians register and find their clinic's patients; another clinic's are out of reach."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinic.models import AuditEvent
from consultations.models import Patient
from tests.factories import ConsultationFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("consultations:patient-list")
CREATE_URL = reverse("consultations:patient-create")
VALID = {"full_name": "Grace Ho", "date_of_birth": "1988-04-12", "sex": "female",
         "phone": "+44 7700 900123", "email": "grace@example.com", "preferred_language": "zh-hans"}


@pytest.fixture
def patient(clinic):
    return PatientFactory(clinic=clinic, full_name="Amelia Stone", phone="020 7946 0555")


@pytest.fixture
def stranger(other_clinic):
    return PatientFactory(clinic=other_clinic, full_name="Amelia Other")


class TestRegistering:
    def test_a_clinician_registers_a_patient_in_their_clinic(self, client_as, clinician, clinic):
        response = client_as(clinician).post(CREATE_URL, VALID)

        patient = Patient.objects.get(full_name="Grace Ho")
        assert response.status_code == 302
        assert response.url == reverse("consultations:patient-detail", args=[patient.pk])
        assert patient.clinic == clinic
        assert patient.created_by == clinician
        assert patient.preferred_language == "zh-hans"

    @pytest.mark.parametrize("field, value, message", [
        ("date_of_birth", "2099-01-01", "cannot be in the future"),
        ("date_of_birth", "1850-01-01", "more than 120 years ago"),
        ("date_of_birth", "31/31/1990", "Enter a valid date"),
        ("phone", "call me maybe", "Use digits"),
        ("email", "not-an-address", "valid email"),
        ("full_name", "", "This field is required"),
        ("preferred_language", "fr", "Select a valid choice"),
    ])
    def test_bad_input_is_named_beside_the_field_and_what_was_typed_is_kept(
            self, client_as, clinician, field, value, message):
        response = client_as(clinician).post(CREATE_URL, {**VALID, field: value})

        form = response.context["form"]
        assert response.status_code == 200
        assert message in " ".join(form.errors[field])
        assert form["full_name"].value() == VALID["full_name"] or field == "full_name"
        assert form[field].value() == value
        assert not Patient.objects.filter(full_name="Grace Ho").exists()

    def test_a_catalogue_admin_may_not_register_patients(self, client_as, catalogue_admin):
        assert client_as(catalogue_admin).get(CREATE_URL).status_code == 403

    def test_editing_keeps_the_patient_in_the_clinic(self, client_as, clinician, patient):
        url = reverse("consultations:patient-edit", args=[patient.pk])

        response = client_as(clinician).post(url, {**VALID, "full_name": "Amelia Stone-Ward"})

        patient.refresh_from_db()
        assert response.status_code == 302
        assert patient.full_name == "Amelia Stone-Ward"


class TestFinding:
    @pytest.mark.parametrize("query", ["amelia", "Stone", "1990-01-01", "01/01/1990",
                                       "7946 0555", "79460555"])
    def test_search_by_name_birth_date_or_phone(self, client_as, clinician, clinic, query):
        PatientFactory(clinic=clinic, full_name="Amelia Stone", phone="020 7946 0555",
                       date_of_birth="1990-01-01")
        PatientFactory(clinic=clinic, full_name="Bob Brown", phone="0161 496 0000",
                       date_of_birth="1975-06-30")

        response = client_as(clinician).post(LIST_URL, {"q": query})

        assert [p.full_name for p in response.context["patients"]] == ["Amelia Stone"]

    def test_the_list_is_paginated(self, client_as, clinician, clinic):
        PatientFactory.create_batch(30, clinic=clinic)

        first = client_as(clinician).get(LIST_URL)
        second = client_as(clinician).get(LIST_URL, {"page": 2})

        assert len(first.context["patients"]) == 25
        assert len(second.context["patients"]) == 5

    def test_another_clinics_patients_are_not_listed(self, client_as, clinician, patient, stranger):
        response = client_as(clinician).post(LIST_URL, {"q": "Amelia"})

        assert [p.full_name for p in response.context["patients"]] == ["Amelia Stone"]


class TestIsolation:
    @pytest.mark.parametrize("name", ["patient-detail", "patient-edit", "consultation-create"])
    def test_another_clinics_patient_is_404(self, client_as, clinician, stranger, name):
        kwarg = "patient_pk" if name == "consultation-create" else "pk"
        url = reverse(f"consultations:{name}", kwargs={kwarg: stranger.pk})

        assert client_as(clinician).get(url).status_code == 404
        if name != "patient-detail":
            assert client_as(clinician).post(url, VALID).status_code == 404

    def test_a_clinician_without_a_clinic_sees_no_patient(self, client_as, stranger):
        from clinic.roles import CLINICIAN

        loner = UserFactory(clinic=None, role=CLINICIAN)

        assert client_as(loner).get(
            reverse("consultations:patient-detail", args=[stranger.pk])).status_code == 404
        assert list(client_as(loner).get(LIST_URL).context["patients"]) == []

    def test_anonymous_visitors_are_sent_to_sign_in(self, client, patient):
        response = client.get(reverse("consultations:patient-detail", args=[patient.pk]))

        assert response.status_code == 302
        assert response.url.startswith(reverse("clinic:sign-in"))


class TestQueryCounts:
    def count_queries(self, client, url):
        """(queries, audit entries written): the trail records each patient a page shows,
        all of them in one insert, so the entries grow with the page's rows and the queries
        do not."""
        before = AuditEvent.objects.count()
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries), AuditEvent.objects.count() - before

    def test_list_and_pages_do_not_grow_with_patients_and_consultations(
            self, client_as, clinician, clinic):
        client = client_as(clinician)
        patient = PatientFactory(clinic=clinic)
        ConsultationFactory(patient=patient, clinician=clinician)
        pages = [LIST_URL, reverse("clinic:home"),
                 reverse("consultations:patient-detail", args=[patient.pk])]
        for url in pages:
            client.get(url)
        small = [self.count_queries(client, url) for url in pages]

        for other in PatientFactory.create_batch(40, clinic=clinic):
            ConsultationFactory.create_batch(2, patient=other, clinician=clinician)
        ConsultationFactory.create_batch(10, patient=patient, clinician=clinician,
                                         status="draft")
        large = [self.count_queries(client, url) for url in pages]

        assert [queries for queries, _entries in large] == [
            queries for queries, _entries in small]
        # One entry per patient shown, besides the list's own: the list's page of 25; the
        # dashboard's 41 patients consulted today; the patient's own page.
        assert [entries for _queries, entries in small] == [1 + 1, 1, 1]
        assert [entries for _queries, entries in large] == [1 + 25, 41, 1]
