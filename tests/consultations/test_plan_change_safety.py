"""Plans that stay safe after every change: a new or stronger flag on a planned procedure
puts the plan in 'needs review' whatever its state, staff see it everywhere they look, the
patient's page puts the procedure on hold, and an accepted plan can be reopened or withdrawn
with a recorded reason."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse

from consultations.models import PlanStatusChange, TreatmentPlan
from consultations.plan_services import (
    PlanRuleError,
    plan_accept_by_patient,
    plan_create,
    plan_link_check_date_of_birth,
    plan_procedure_add,
    plan_review,
    plan_share,
    plan_status_change,
    plans_recheck,
)
from tests.consultations.intake_data import complete_intake, intake_submitted
from tests.factories import PatientFactory
from treatments.models import (
    Condition,
    ContraindicationRule,
    CoverageDecision,
    EvidenceBasis,
    Treatment,
)
from treatments.services import catalogue_record_save

pytestmark = pytest.mark.django_db

BIRTH = datetime.date(1990, 3, 4)
NEEDLING = "MICRONEEDLING"


def link_url(token):
    return f"/p/{token}/"


@pytest.fixture
def patient(clinic):
    return PatientFactory(clinic=clinic, full_name="Lena Fischer", date_of_birth=BIRTH)


def plan_in(state, clinician, consultation, first_date=datetime.date(2027, 2, 1)):
    """A plan holding microneedling (nothing to justify), moved to `state`; its link."""
    plan = plan_create(user=clinician, consultation=consultation)
    plan_procedure_add(user=clinician, plan=plan, treatment=Treatment.objects.get(code=NEEDLING),
                       first_date=first_date)
    token = None
    if state in ("shared", "accepted"):
        _link, token = plan_share(user=clinician, plan=plan, link_url=link_url)
    if state == "accepted":
        plan_status_change(user=clinician, plan=plan, to="accepted")
    plan.refresh_from_db()
    assert plan.status == state and plan.needs_review_since is None
    return plan, token


def confirmed_link(plan):
    """The plan's link once the patient has confirmed their date of birth on it."""
    link = plan.links.get()
    assert plan_link_check_date_of_birth(link=link, date_of_birth=BIRTH)[0] == "accepted"
    return link


def edit_intake(client, consultation, **answers):
    consultation.refresh_from_db()
    response = client.post(reverse("consultations:consultation-edit", args=[consultation.pk]),
                           complete_intake(version=str(consultation.version), **answers))
    assert response.status_code == 302


def add_rule_on_epilepsy(actor, code=NEEDLING, severity="relative"):
    """A catalogue admin decides epilepsy matters for the treatment after all."""
    treatment = Treatment.objects.get(code=code)
    CoverageDecision.objects.filter(treatment=treatment, condition__code="epilepsy").delete()
    catalogue_record_save(actor=actor, created=True, changes={}, instance=ContraindicationRule(
        treatment=treatment, condition=Condition.objects.get(code="epilepsy"),
        severity=severity, rationale="Seizure risk with a needle procedure.",
        confidence="low", basis=EvidenceBasis.objects.get(code="principle")))


@pytest.mark.parametrize("state", ["draft", "shared", "accepted"])
class TestANewFlagInEveryState:
    def test_an_intake_edit_marks_the_plan_at_once(self, state, client_as, clinician,
                                                    patient):
        client = client_as(clinician)
        consultation = intake_submitted(client, patient)
        plan, _token = plan_in(state, clinician, consultation)

        edit_intake(client, consultation, condition_keloid_tendency="yes")

        plan.refresh_from_db()
        assert plan.needs_review_since is not None
        assert plan.status == state

    def test_a_catalogue_change_marks_the_plan_once_committed(
            self, state, client_as, clinician, catalogue_admin, patient,
            django_capture_on_commit_callbacks):
        client = client_as(clinician)
        consultation = intake_submitted(client, patient, condition_epilepsy="yes")
        plan, _token = plan_in(state, clinician, consultation)

        with django_capture_on_commit_callbacks(execute=True):
            add_rule_on_epilepsy(catalogue_admin)

        plan.refresh_from_db()
        assert plan.needs_review_since is not None

    def test_a_date_reached_marks_the_plan_by_the_daily_check(
            self, state, client_as, clinician, catalogue_admin, clinic, monkeypatch,
            django_capture_on_commit_callbacks):
        """Turning 65 before an undated session brings the rule an admin wrote for it."""
        patient = PatientFactory(clinic=clinic, date_of_birth=datetime.date(1962, 1, 15))
        consultation = intake_submitted(client_as(clinician), patient)
        plan, _token = plan_in(state, clinician, consultation, first_date=None)  # undated
        treatment = Treatment.objects.get(code=NEEDLING)
        ContraindicationRule.objects.filter(treatment=treatment,
                                            condition__code="age_over_65").delete()
        CoverageDecision.objects.filter(treatment=treatment,
                                        condition__code="age_over_65").delete()
        with django_capture_on_commit_callbacks(execute=True):
            catalogue_record_save(actor=catalogue_admin, created=True, changes={},
                                  instance=ContraindicationRule(
                treatment=treatment, condition=Condition.objects.get(code="age_over_65"),
                severity="relative", rationale="Thinner skin heals more slowly.",
                confidence="low", basis=EvidenceBasis.objects.get(code="principle")))
        plan.refresh_from_db()
        assert plan.needs_review_since is None  # 64 today: nothing new yet

        monkeypatch.setattr("django.utils.timezone.localdate",
                            lambda *args: datetime.date(2027, 2, 1))
        plans_recheck()

        plan.refresh_from_db()
        assert plan.needs_review_since is not None

    def test_staff_see_it_on_the_plan_the_patient_record_and_the_dashboard(
            self, state, client_as, clinician, patient):
        client = client_as(clinician)
        consultation = intake_submitted(client, patient)
        plan, _token = plan_in(state, clinician, consultation)
        edit_intake(client, consultation, condition_keloid_tendency="yes")

        plan_page = client.get(reverse("consultations:plan-detail", args=[plan.pk]))
        record = client.get(reverse("consultations:patient-detail", args=[patient.pk]))
        dashboard = client.get(reverse("clinic:home"))

        assert "This plan needs review." in plan_page.content.decode()
        assert "Needs review" in record.content.decode()
        assert [p.pk for p in dashboard.context["inbox"]["reviews"]] == [plan.pk]

    def test_the_review_settles_it_with_words_written_for_the_new_flag(
            self, state, client_as, clinician, patient):
        client = client_as(clinician)
        consultation = intake_submitted(client, patient)
        plan, _token = plan_in(state, clinician, consultation)
        edit_intake(client, consultation, condition_keloid_tendency="yes")
        procedure = plan.procedures.get()

        plan_review(user=clinician, plan=plan,
                    justifications={procedure.pk: "Test spot healed flat; keloids only on "
                                                  "the chest."})

        plan.refresh_from_db()
        assert plan.needs_review_since is None
        assert not client.get(reverse("clinic:home")).context["inbox"]["reviews"]


class TestThePatientsPage:
    @pytest.fixture
    def accepted(self, client_as, clinician, patient):
        client = client_as(clinician)
        consultation = intake_submitted(client, patient)
        plan, token = plan_in("accepted", clinician, consultation)
        visitor = Client()
        visitor.post(link_url(token), {"date_of_birth": BIRTH.isoformat()})
        return plan, token, visitor, client

    def test_says_the_clinic_is_reviewing_and_puts_the_procedure_on_hold(self, accepted):
        plan, token, visitor, client = accepted
        assert "On hold" not in visitor.get(link_url(token)).content.decode()

        edit_intake(client, plan.consultation, condition_keloid_tendency="yes")
        page = visitor.get(link_url(token)).content.decode()

        assert "Your clinic is reviewing this plan" in page
        assert "On hold" in page

    def test_a_shared_plan_on_hold_cannot_be_accepted(self, client_as, clinician, patient):
        client = client_as(clinician)
        consultation = intake_submitted(client, patient)
        plan, token = plan_in("shared", clinician, consultation)
        edit_intake(client, consultation, condition_keloid_tendency="yes")

        with pytest.raises(PlanRuleError, match="reviewing this plan"):
            plan_accept_by_patient(link=confirmed_link(plan))

        plan.refresh_from_db()
        assert plan.status == "shared"

    def test_a_reopened_plan_says_it_is_being_updated(self, accepted, clinician):
        plan, token, visitor, _client = accepted

        plan_status_change(user=clinician, plan=plan, to="draft",
                           reason="Adding a second area the patient asked about.")

        page = visitor.get(link_url(token))
        assert page.status_code == 200
        assert "Your plan is being updated" in page.content.decode()
        assert "second area" not in page.content.decode()  # the reason is the clinic's

    def test_a_withdrawn_plan_cannot_be_opened(self, accepted, clinician):
        plan, token, visitor, _client = accepted

        plan_status_change(user=clinician, plan=plan, to="withdrawn",
                           reason="The patient moved away.")

        assert visitor.get(link_url(token)).status_code == 410


class TestReopenAndWithdraw:
    @pytest.fixture
    def accepted(self, client_as, clinician, patient):
        consultation = intake_submitted(client_as(clinician), patient)
        plan, _token = plan_in("accepted", clinician, consultation)
        return plan

    @pytest.mark.parametrize("to", ["draft", "withdrawn"])
    def test_an_accepted_plan_needs_a_reason_and_the_move_is_recorded(
            self, to, clinician, accepted):
        with pytest.raises(PlanRuleError, match="reason"):
            plan_status_change(user=clinician, plan=accepted, to=to, reason="  ")
        accepted.refresh_from_db()
        assert accepted.status == "accepted"

        plan_status_change(user=clinician, plan=accepted, to=to, reason="Patient asked.")

        change = accepted.status_changes.first()
        assert (change.from_status, change.to_status, change.reason, change.changed_by) == (
            "accepted", to, "Patient asked.", clinician)

    def test_the_page_keeps_the_reason_box_and_says_what_is_missing(
            self, client_as, clinician, accepted):
        response = client_as(clinician).post(
            reverse("consultations:plan-status", args=[accepted.pk]),
            {"to": "withdrawn", "reason": ""})

        assert response.status_code == 200
        assert response.context["move_error"]["to"] == "withdrawn"
        assert "Give the reason" in response.content.decode()
        accepted.refresh_from_db()
        assert accepted.status == "accepted"

    def test_reopened_it_can_be_changed_and_shared_again(self, clinician, accepted):
        plan_status_change(user=clinician, plan=accepted, to="draft", reason="Add a product.")
        plan_procedure_add(user=clinician, plan=accepted,
                           treatment=Treatment.objects.get(code="SILICONE_GEL"))

        plan_share(user=clinician, plan=accepted, link_url=link_url)

        accepted.refresh_from_db()
        assert accepted.status == "shared" and accepted.reopened_at is None
        assert [c.to_status for c in PlanStatusChange.objects.filter(plan=accepted)
                .order_by("changed_at", "id")] == ["shared", "accepted", "draft", "shared"]


def test_the_daily_check_marks_and_settles_every_live_plan(client_as, clinician, patient):
    client = client_as(clinician)
    consultation = intake_submitted(client, patient)
    plan, _token = plan_in("accepted", clinician, consultation)
    TreatmentPlan.objects.filter(pk=plan.pk).update(needs_review_since=None)
    # An answer changed behind the plan's back (as a restored backup would leave it).
    consultation.condition_answers.filter(condition__code="keloid_tendency").update(
        answer="yes")

    assert plans_recheck() == 1
    plan.refresh_from_db()
    assert plan.needs_review_since is not None


class TestTheInbox:
    @pytest.fixture
    def asked(self, client_as, clinician, patient):
        from consultations.models import PlanQuestion

        patient.email = "lena@example.com"
        patient.preferred_language = "zh-hans"
        patient.save()
        consultation = intake_submitted(client_as(clinician), patient)
        plan, token = plan_in("shared", clinician, consultation)
        question = PlanQuestion.objects.create(plan=plan, message="Will it hurt?")
        question.token = token
        return question

    def test_lists_questions_acceptances_and_reviews_oldest_first_with_counts(
            self, client_as, clinician, patient, asked):
        plan = asked.plan
        plan_accept_by_patient(link=confirmed_link(plan))
        client = client_as(clinician)

        dashboard = client.get(reverse("clinic:home"))

        inbox = dashboard.context["inbox"]
        assert [q.pk for q in inbox["questions"]] == [asked.pk]
        assert [p.pk for p in inbox["acceptances"]] == [plan.pk]
        assert 'class="badge text-bg-warning"' in dashboard.content.decode()
        assert dashboard.context["inbox_counts"]["questions"] == 1

        client.post(reverse("consultations:plan-acceptance-seen", args=[plan.pk]))
        assert not client.get(reverse("clinic:home")).context["inbox"]["acceptances"]

    def test_an_answer_reaches_the_patients_page_and_a_notice_without_health_data(
            self, client_as, clinician, patient, asked, mailoutbox,
            django_capture_on_commit_callbacks):
        client = client_as(clinician)

        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("consultations:plan-question-answer",
                                args=[asked.plan_id, asked.pk]),
                        {"answer": "A little: we use numbing cream.", "next": "inbox"})

        asked.refresh_from_db()
        assert asked.answer == "A little: we use numbing cream."
        assert asked.answered_by == clinician and asked.answered_at
        assert not client.get(reverse("clinic:home")).context["inbox"]["questions"]
        [notice] = mailoutbox
        assert notice.to == ["lena@example.com"]
        assert "numbing" not in notice.body and "Will it hurt" not in notice.body
        assert "回答" in notice.subject or "回答" in notice.body  # in the patient's language
        visitor = Client()
        visitor.post(link_url(asked.token), {"date_of_birth": BIRTH.isoformat()})
        assert "A little: we use numbing cream." in visitor.get(
            link_url(asked.token)).content.decode()

    def test_an_empty_answer_is_refused_beside_the_box(self, client_as, clinician, asked):
        client = client_as(clinician)

        response = client.post(reverse("consultations:plan-question-answer",
                                       args=[asked.plan_id, asked.pk]),
                               {"answer": "   ", "next": "plan"}, follow=True)

        assert "Write the answer first." in response.content.decode()
        asked.refresh_from_db()
        assert asked.answered_at is None
