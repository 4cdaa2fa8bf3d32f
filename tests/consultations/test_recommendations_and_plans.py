"""The recommendation page and treatment plans built from it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from consultations.models import Consultation, PlannedProcedure, TreatmentPlan
from consultations.plan_services import (
    PlanRuleError,
    plan_create,
    plan_procedure_add,
    plan_procedure_remove,
    plan_status_change,
)
from tests.audit_trail import chain_statements
from tests.consultations.intake_data import complete_intake, intake_submitted as submit
from tests.pages import as_read
from tests.factories import PatientFactory, TreatmentFactory, UserFactory
from treatments.models import (
    Condition,
    ContraindicationRule,
    CoverageDecision,
    EvidenceBasis,
    Treatment,
)
from treatments.catalogue_state import catalogue_changed
from treatments.services import catalogue_record_save

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient(clinic):
    return PatientFactory(clinic=clinic, full_name="Aiko Tanaka")


@pytest.fixture
def pregnant_with_scars(client_as, clinician, patient):
    return submit(client_as(clinician), patient, condition_pregnancy="yes",
                  concern_acne_scars="moderate")


@pytest.fixture
def breastfeeding_with_scars(client_as, clinician, patient):
    return submit(client_as(clinician), patient, condition_lactation="yes",
                  concern_acne_scars="moderate")


def recommendations_url(consultation):
    return reverse("consultations:consultation-recommendations", args=[consultation.pk])


class TestRecommendationPage:
    def test_shows_exclusions_with_their_trigger_and_suitable_options(
            self, client_as, clinician, pregnant_with_scars):
        response = client_as(clinician).get(recommendations_url(pregnant_with_scars))

        page = response.content.decode()
        recommendation = response.context["recommendation"]
        assert "CO2_FRAC" in [t.code for t in recommendation.excluded]
        assert "SILICONE_GEL" in [t.code for t in recommendation.recommended]
        excluded = page.split('id="excluded-CO2_FRAC"')[1].split("</article>")[0]
        assert "Pregnancy" in excluded and "Rules it out" in excluded
        suitable = page.split('id="suitable"')[1].split('id="excluded"')[0]
        assert "Topical silicone" in suitable or "Silicone" in suitable
        assert "Fractional CO2" not in suitable

    def test_refer_out_options_and_policy_notes_are_shown_apart(self, client_as, clinician,
                                                                patient):
        plain = submit(client_as(clinician), patient)
        unsure = submit(client_as(clinician), patient, condition_pregnancy="unsure")

        page = client_as(clinician).get(recommendations_url(plain)).content.decode()
        unsure_page = client_as(clinician).get(recommendations_url(unsure)).content.decode()

        assert "Refer-out options" in page
        assert "Subcision" in page.split('id="referrals"')[1].split("</section>")[0]
        assert "unsure" in unsure_page.split('id="policy-notes"')[1].split("</section>")[0]

    def test_requirements_name_the_answer_that_called_for_them(self, client_as, clinician,
                                                               patient):
        consultation = submit(client_as(clinician), patient,
                              condition_herpes_simplex_history="yes")

        page = client_as(clinician).get(recommendations_url(consultation)).content.decode()

        assert "Antiviral" in page
        assert "because herpes_simplex_history" not in page
        assert "because History of herpes simplex" in page

    def test_score_parts_are_shown(self, client_as, clinician, pregnant_with_scars):
        page = client_as(clinician).get(recommendations_url(pregnant_with_scars)
                                        ).content.decode()

        assert "Score = indication points" in page
        assert 'class="score"' in page

    def test_is_always_current_after_a_catalogue_change(self, client_as, clinician,
                                                        catalogue_admin, patient):
        consultation = submit(client_as(clinician), patient, condition_smoking="yes")
        client = client_as(clinician)
        assert "SILICONE_GEL" in [t.code for t in client.get(
            recommendations_url(consultation)).context["recommendation"].recommended]

        rule = ContraindicationRule(
            treatment=Treatment.objects.get(code="SILICONE_GEL"),
            condition=Condition.objects.get(code="smoking"), severity="absolute",
            rationale="Clinic policy for a test.", confidence="low",
            basis=EvidenceBasis.objects.get(code="principle"))
        catalogue_record_save(actor=catalogue_admin, instance=rule, changes={}, created=True)

        recommendation = client.get(recommendations_url(consultation)).context["recommendation"]
        assert "SILICONE_GEL" in [t.code for t in recommendation.excluded]

    def test_seen_again_is_served_as_worked_out_without_reading_the_answers(
            self, client_as, clinician, pregnant_with_scars, django_assert_max_num_queries):
        client = client_as(clinician)
        client.get(reverse("consultations:patient-list"))  # shows the "submitted" message
        first = client.get(recommendations_url(pregnant_with_scars))

        # session, account with clinic, permissions, consultation, audit entry (with its
        # chain link), catalogue token, the inbox counts in the top bar
        with django_assert_max_num_queries(7 + chain_statements()):
            again = client.get(recommendations_url(pregnant_with_scars))

        assert as_read(again) == as_read(first)

    def test_an_intake_edit_shows_at_once(self, client_as, clinician, pregnant_with_scars):
        client = client_as(clinician)
        url = recommendations_url(pregnant_with_scars)
        assert 'id="excluded-CO2_FRAC"' in client.get(url).content.decode()

        client.post(reverse("consultations:consultation-edit", args=[pregnant_with_scars.pk]),
                    complete_intake(version=str(pregnant_with_scars.version),
                                    concern_acne_scars="moderate"))

        page = client.get(url).content.decode()
        assert "Worked out from intake version 2" in page
        assert 'id="excluded-CO2_FRAC"' not in page
        assert 'id="treatment-CO2_FRAC"' in page

    def test_starting_a_plan_offers_to_add_each_suitable_procedure(
            self, client_as, clinician, pregnant_with_scars):
        client = client_as(clinician)
        url = recommendations_url(pregnant_with_scars)
        assert "Add to the draft plan" not in client.get(url).content.decode()

        plan = plan_create(user=clinician, consultation=pregnant_with_scars)

        page = client.get(url).content.decode()
        add_url = reverse("consultations:plan-procedure-add", args=[plan.pk])
        assert f'{add_url}?treatment=SILICONE_GEL' in page

    def test_each_language_gets_its_own_page(self, client_as, clinician, pregnant_with_scars):
        client = client_as(clinician)
        url = recommendations_url(pregnant_with_scars)
        english = client.get(url).content.decode()

        chinese = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

        assert "Suitable procedures, best first" in english
        assert "Suitable procedures, best first" not in chinese

    def test_another_clinic_gets_404(self, client_as, pregnant_with_scars, other_clinic):
        outsider = UserFactory(clinic=other_clinic, role="Clinician")

        assert client_as(outsider).get(recommendations_url(pregnant_with_scars)
                                       ).status_code == 404

    def test_runs_a_constant_number_of_queries_whatever_the_catalogue_size(
            self, client_as, clinician, pregnant_with_scars):
        client = client_as(clinician)
        url = recommendations_url(pregnant_with_scars)
        client.get(url)

        def queries(rebuild):
            if rebuild:
                catalogue_changed()  # as after any catalogue edit: the snapshot is re-read
            with CaptureQueriesContext(connection) as captured:
                response = client.get(url)
            return len(captured), response

        shipped_cold, _ = queries(rebuild=True)
        shipped_warm, _ = queries(rebuild=False)
        TreatmentFactory.create_batch(40)
        grown_cold, response = queries(rebuild=True)
        grown_warm, _ = queries(rebuild=False)

        assert len(response.context["recommendation"].treatments) == 67
        assert (grown_cold, grown_warm) == (shipped_cold, shipped_warm)
        assert shipped_warm < shipped_cold  # the unchanged catalogue is not re-read


class TestPlanRules:
    def test_an_absolutely_contraindicated_procedure_is_refused(self, clinician,
                                                                pregnant_with_scars):
        plan = plan_create(user=clinician, consultation=pregnant_with_scars)

        with pytest.raises(PlanRuleError, match="ruled out for this patient \\(pregnancy"):
            plan_procedure_add(user=clinician, plan=plan,
                               treatment=Treatment.objects.get(code="CO2_FRAC"))

        assert plan.procedures.count() == 0

    def test_a_relatively_contraindicated_procedure_needs_a_justification(
            self, clinician, breastfeeding_with_scars):
        plan = plan_create(user=clinician, consultation=breastfeeding_with_scars)
        peel = Treatment.objects.get(code="PEEL_AHA_HIGH")

        with pytest.raises(PlanRuleError, match="Write why these cautions are acceptable"):
            plan_procedure_add(user=clinician, plan=plan, treatment=peel, justification="  ")
        assert plan.procedures.count() == 0

        procedure = plan_procedure_add(user=clinician, plan=plan, treatment=peel, sessions=3,
                                       interval_weeks=4,
                                       justification="Peel agreed with her midwife.")

        assert procedure.justification == "Peel agreed with her midwife."
        assert procedure.justified_by == clinician
        assert procedure.justified_at is not None
        assert ["lactation", "relative"] in procedure.reviewed_flags

    def test_a_procedure_without_cautions_needs_no_justification(self, clinician,
                                                                 pregnant_with_scars):
        plan = plan_create(user=clinician, consultation=pregnant_with_scars)

        procedure = plan_procedure_add(user=clinician, plan=plan,
                                       treatment=Treatment.objects.get(code="SILICONE_GEL"))

        assert procedure.justification == "" and procedure.justified_by is None

    def test_referrals_are_not_bookable(self, clinician, patient, client_as):
        consultation = submit(client_as(clinician), patient)
        plan = plan_create(user=clinician, consultation=consultation)

        with pytest.raises(PlanRuleError, match="referral to a specialist"):
            plan_procedure_add(user=clinician, plan=plan,
                               treatment=Treatment.objects.get(code="SUBCISION"))

    def test_a_draft_intake_cannot_be_planned(self, clinician, patient):
        draft = Consultation.objects.create(patient=patient, clinician=clinician)

        with pytest.raises(PlanRuleError, match="Submit the intake"):
            plan_create(user=clinician, consultation=draft)

    def test_the_plan_records_what_it_was_built_on(self, clinician, pregnant_with_scars):
        plan = plan_create(user=clinician, consultation=pregnant_with_scars)

        assert plan.intake_version == pregnant_with_scars.version
        assert plan.catalogue_version > 0

    def test_states_move_draft_shared_accepted(self, clinician, pregnant_with_scars):
        plan = plan_create(user=clinician, consultation=pregnant_with_scars)
        with pytest.raises(PlanRuleError, match="at least one procedure"):
            plan_status_change(user=clinician, plan=plan, to="shared")
        plan_procedure_add(user=clinician, plan=plan,
                           treatment=Treatment.objects.get(code="SILICONE_GEL"))

        plan_status_change(user=clinician, plan=plan, to="shared")
        with pytest.raises(PlanRuleError, match="Only a draft plan can be changed"):
            plan_procedure_add(user=clinician, plan=plan,
                               treatment=Treatment.objects.get(code="MICRODERM"),
                               justification="x")
        plan_status_change(user=clinician, plan=plan, to="accepted")

        plan.refresh_from_db()
        assert plan.status == "accepted" and plan.shared_at and plan.accepted_at
        with pytest.raises(PlanRuleError, match="cannot become"):
            plan_status_change(user=clinician, plan=plan, to="shared")

    def test_a_change_to_its_procedures_is_a_change_to_the_plan(self, clinician,
                                                                 pregnant_with_scars):
        plan = plan_create(user=clinician, consultation=pregnant_with_scars)
        created = plan.updated_at

        gel = plan_procedure_add(user=clinician, plan=plan,
                                 treatment=Treatment.objects.get(code="SILICONE_GEL"))
        plan.refresh_from_db()
        added = plan.updated_at
        plan_procedure_remove(user=clinician, plan=plan, procedure=gel)
        plan.refresh_from_db()

        assert created < added < plan.updated_at

    def test_a_plan_can_be_withdrawn(self, clinician, pregnant_with_scars):
        plan = plan_create(user=clinician, consultation=pregnant_with_scars)

        plan_status_change(user=clinician, plan=plan, to="withdrawn")

        assert plan.status == "withdrawn" and plan.withdrawn_at


class TestPlanPages:
    def test_adding_through_the_page_keeps_the_input_when_a_justification_is_missing(
            self, client_as, clinician, breastfeeding_with_scars):
        client = client_as(clinician)
        client.post(reverse("consultations:plan-create", args=[breastfeeding_with_scars.pk]))
        plan = TreatmentPlan.objects.get()
        url = reverse("consultations:plan-procedure-add", args=[plan.pk])

        response = client.post(url, {"treatment": "PEEL_AHA_HIGH", "sessions": "3",
                                      "interval_weeks": "4", "notes": "Spring course"})

        form = response.context["form"]
        assert "Write why these cautions are acceptable" in " ".join(form.errors["justification"])
        assert form["notes"].value() == "Spring course"
        assert not PlannedProcedure.objects.exists()

        response = client.post(url, {"treatment": "PEEL_AHA_HIGH", "sessions": "3",
                                     "interval_weeks": "4", "notes": "Spring course",
                                     "justification": "Discussed with her obstetrician."})

        assert response.status_code == 302
        page = client.get(reverse("consultations:plan-detail", args=[plan.pk])).content.decode()
        assert "Discussed with her obstetrician." in page
        assert "Mei Lin" in page

    def test_an_excluded_procedure_cannot_be_added_through_the_page(
            self, client_as, clinician, pregnant_with_scars):
        client = client_as(clinician)
        client.post(reverse("consultations:plan-create", args=[pregnant_with_scars.pk]))
        plan = TreatmentPlan.objects.get()

        response = client.post(reverse("consultations:plan-procedure-add", args=[plan.pk]),
                               {"treatment": "CO2_FRAC", "sessions": "1",
                                "justification": "I insist."})

        assert response.status_code == 200
        assert "ruled out for this patient" in response.content.decode()
        assert not PlannedProcedure.objects.exists()

    def test_another_clinics_plan_is_404(self, client_as, clinician, pregnant_with_scars,
                                         other_clinic):
        plan = plan_create(user=clinician, consultation=pregnant_with_scars)
        outsider = client_as(UserFactory(clinic=other_clinic, role="Clinician"))

        assert outsider.get(reverse("consultations:plan-detail", args=[plan.pk])
                            ).status_code == 404
        assert outsider.post(reverse("consultations:plan-status", args=[plan.pk]),
                             {"to": "withdrawn"}).status_code == 404
        plan.refresh_from_db()
        assert plan.status == "draft"


class TestStalePlans:
    @pytest.fixture
    def planned(self, client_as, clinician, patient):
        consultation = submit(client_as(clinician), patient)
        plan = plan_create(user=clinician, consultation=consultation)
        plan_procedure_add(user=clinician, plan=plan,
                           treatment=Treatment.objects.get(code="MICRONEEDLING"))
        return plan

    def plan_page(self, client, plan):
        return client.get(reverse("consultations:plan-detail", args=[plan.pk]))

    def test_an_intake_edit_that_brings_a_new_flag_warns_until_re_reviewed(
            self, client_as, clinician, planned):
        client = client_as(clinician)
        consultation = planned.consultation
        assert not self.plan_page(client, planned).context["needs_review"]

        client.post(reverse("consultations:consultation-edit", args=[consultation.pk]),
                    complete_intake(version=str(consultation.version),
                                    condition_keloid_tendency="yes"))

        page = self.plan_page(client, planned)
        assert page.context["needs_review"]
        assert "This plan needs review." in page.content.decode()
        review_url = reverse("consultations:plan-review", args=[planned.pk])
        procedure = planned.procedures.get()
        refused = client.post(review_url, {f"justification_{procedure.pk}": ""})
        assert "Justify the new cautions: keloid_tendency" in refused.content.decode()
        assert self.plan_page(client, planned).context["needs_review"]

        client.post(review_url, {f"justification_{procedure.pk}": "Small test area first."})

        page = self.plan_page(client, planned)
        assert not page.context["needs_review"]
        procedure.refresh_from_db()
        assert procedure.justification == "Small test area first."
        planned.refresh_from_db()
        assert planned.intake_version == 2 and planned.reviewed_by == clinician

    def test_a_catalogue_change_that_flags_a_planned_procedure_warns(
            self, client_as, clinician, catalogue_admin, planned):
        client = client_as(clinician)
        microneedling = Treatment.objects.get(code="MICRONEEDLING")
        # Both conditions were reviewed as needing no rule; the admin now thinks otherwise.
        CoverageDecision.objects.filter(treatment=microneedling,
                                        condition__code__in=["epilepsy", "anaemia"]).delete()
        rule = ContraindicationRule(
            treatment=microneedling, condition=Condition.objects.get(code="epilepsy"),
            severity="relative", rationale="Test.", confidence="low",
            basis=EvidenceBasis.objects.get(code="principle"))
        catalogue_record_save(actor=catalogue_admin, instance=rule, changes={}, created=True)
        # The patient answered no: a rule on a condition they lack changes nothing.
        assert not self.plan_page(client, planned).context["needs_review"]

        rule.condition = Condition.objects.get(code="anaemia")
        catalogue_record_save(actor=catalogue_admin, instance=rule, changes={}, created=False)
        consultation = planned.consultation
        client.post(reverse("consultations:consultation-edit", args=[consultation.pk]),
                    complete_intake(version=str(consultation.version), condition_anaemia="yes"))

        assert self.plan_page(client, planned).context["needs_review"]

    def test_a_procedure_now_ruled_out_must_be_removed(self, client_as, clinician, planned):
        client = client_as(clinician)
        consultation = planned.consultation
        client.post(reverse("consultations:consultation-edit", args=[consultation.pk]),
                    complete_intake(version=str(consultation.version),
                                    condition_pregnancy="yes"))
        procedure = planned.procedures.get()

        response = client.post(reverse("consultations:plan-review", args=[planned.pk]),
                               {f"justification_{procedure.pk}": "Still want it."})

        assert "now ruled out for this patient: remove it" in response.content.decode()
        with pytest.raises(PlanRuleError, match="Review the new flags"):
            plan_status_change(user=clinician, plan=planned, to="shared")

    def test_the_plan_page_query_count_does_not_grow_with_procedures(
            self, client_as, clinician, planned):
        client = client_as(clinician)
        client.get(reverse("consultations:plan-detail", args=[planned.pk]))
        with CaptureQueriesContext(connection) as one:
            self.plan_page(client, planned)
        for code in ["SILICONE_GEL", "REPAIR_MASK", "MICRODERM"]:
            treatment = Treatment.objects.get(code=code)
            PlannedProcedure.objects.create(plan=planned, treatment=treatment)
        with CaptureQueriesContext(connection) as four:
            self.plan_page(client, planned)

        assert len(four) == len(one)


def test_recomputing_a_plans_flags_reads_the_answers_in_a_fixed_number_of_queries(
        client_as, clinician, patient, django_assert_max_num_queries):
    from consultations.selectors import consultation_recommendation

    consultation = submit(client_as(clinician), patient)
    consultation_recommendation(consultation)  # the catalogue copy is now current
    fresh = Consultation.objects.get(pk=consultation.pk)  # as a plan's consultation is

    with django_assert_max_num_queries(10 + chain_statements()):  # the audit entry's link
        consultation_recommendation(fresh)
