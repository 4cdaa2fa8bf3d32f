"""Plans check each session at its own date: inside a date-derived window it carries that
window's flag (refused when absolute), after it the flag is gone."""

import datetime

import pytest
from django.urls import reverse

from clinic.roles import CLINICIAN
from consultations.models import PlannedProcedure
from consultations.plan_services import (
    PlanRuleError,
    plan_create,
    plan_procedure_add,
    plan_procedure_reschedule,
    plan_status_change,
)
from tests.consultations.intake_data import intake_submitted
from tests.factories import PatientFactory, UserFactory
from treatments.models import Treatment

pytestmark = pytest.mark.django_db

LAST_DOSE = datetime.date(2026, 9, 1)  # six months end 1 March 2027, twelve 1 September


@pytest.fixture
def plan(client_as, clinician, clinic):
    patient = PatientFactory(clinic=clinic)
    consultation = intake_submitted(
        client_as(clinician), patient, consultation_date="2026-11-20",
        dated_isotretinoin_last_dose="date",
        dated_isotretinoin_last_dose_date=LAST_DOSE.isoformat())
    return plan_create(user=clinician, consultation=consultation)


RF = "RF_MICRONEEDLING"  # absolute within six months of isotretinoin (its instructions)


def test_a_session_inside_an_absolute_window_is_refused_with_the_day_it_becomes_possible(
        clinician, plan):
    with pytest.raises(PlanRuleError) as refused:
        plan_procedure_add(user=clinician, plan=plan, treatment=Treatment.objects.get(code=RF),
                           first_date=datetime.date(2027, 1, 10), justification="x")

    assert "2027-01-10" in refused.value.message
    assert "possible from" in refused.value.message
    assert refused.value.field == "first_date"
    assert not PlannedProcedure.objects.exists()


def test_a_course_whose_later_sessions_fall_inside_is_refused_too(clinician, plan):
    # Three sessions four weeks apart from 1 February: all before 2 March 2027.
    with pytest.raises(PlanRuleError, match="2027-02-01"):
        plan_procedure_add(user=clinician, plan=plan, treatment=Treatment.objects.get(code=RF),
                           sessions=3, interval_weeks=4, first_date=datetime.date(2027, 2, 1),
                           justification="x")


def test_sessions_after_the_window_are_accepted_with_the_flags_that_remain(clinician, plan):
    treatment = Treatment.objects.get(code=RF)
    result_day = datetime.date(2027, 9, 10)  # after both the six- and twelve-month windows

    procedure = plan_procedure_add(user=clinician, plan=plan, treatment=treatment,
                                   first_date=result_day, justification="")

    assert not any(code.startswith("isotretinoin") for code, _s in procedure.reviewed_flags)


def test_a_relative_window_needs_a_justification_only_for_sessions_inside_it(clinician,
                                                                             plan):
    needling = Treatment.objects.get(code="MICRONEEDLING")  # relative within 6 and 12 months

    with pytest.raises(PlanRuleError, match="isotretinoin"):
        plan_procedure_add(user=clinician, plan=plan, treatment=needling,
                           first_date=datetime.date(2027, 1, 10))

    procedure = plan_procedure_add(user=clinician, plan=plan, treatment=needling,
                                   first_date=datetime.date(2027, 1, 10),
                                   justification="Consensus allows needling after isotretinoin.")
    assert ["isotretinoin_6m", "relative"] in procedure.reviewed_flags


def test_the_add_page_shows_the_refusal_beside_the_date_and_keeps_the_input(
        client_as, clinician, plan):
    url = reverse("consultations:plan-procedure-add", args=[plan.pk])

    response = client_as(clinician).post(url, {"treatment": RF, "sessions": "2",
                                               "interval_weeks": "6", "first_date": "2027-01-10",
                                               "notes": "Cheeks", "justification": "x"})

    form = response.context["form"]
    assert "possible from" in " ".join(form.errors["first_date"])
    assert form["notes"].value() == "Cheeks"


NEEDLING = "MICRONEEDLING"  # relative within six and twelve months of isotretinoin
AFTER_BOTH_WINDOWS = datetime.date(2027, 9, 10)


def edit_url(procedure):
    return reverse("consultations:plan-procedure-edit", args=[procedure.plan_id, procedure.pk])


class TestMovingASession:
    @pytest.fixture
    def later_course(self, clinician, plan):
        """Microneedling planned after both isotretinoin windows: no caution to justify."""
        return plan_procedure_add(user=clinician, plan=plan,
                                  treatment=Treatment.objects.get(code=NEEDLING),
                                  first_date=AFTER_BOTH_WINDOWS)

    def test_moving_into_a_relative_window_needs_a_justification_for_it(
            self, clinician, plan, later_course):
        with pytest.raises(PlanRuleError, match="isotretinoin_12m") as refused:
            plan_procedure_reschedule(user=clinician, plan=plan, procedure=later_course,
                                      first_date=datetime.date(2027, 4, 1))

        assert refused.value.field == "justification"
        later_course.refresh_from_db()
        assert later_course.first_date == AFTER_BOTH_WINDOWS

        moved = plan_procedure_reschedule(
            user=clinician, plan=plan, procedure=later_course,
            first_date=datetime.date(2027, 4, 1),
            justification="Consensus allows needling within a year of isotretinoin.")

        assert moved.first_date == datetime.date(2027, 4, 1)
        assert ["isotretinoin_12m", "relative"] in moved.reviewed_flags
        assert moved.justified_by == clinician

    def test_the_earlier_justification_unchanged_does_not_answer_a_new_caution(
            self, clinician, plan):
        course = plan_procedure_add(user=clinician, plan=plan,
                                    treatment=Treatment.objects.get(code=NEEDLING),
                                    first_date=datetime.date(2027, 4, 1),
                                    justification="Within a year is accepted by consensus.")

        with pytest.raises(PlanRuleError, match="isotretinoin_6m") as refused:
            plan_procedure_reschedule(user=clinician, plan=plan, procedure=course,
                                      first_date=datetime.date(2027, 1, 10),
                                      justification="Within a year is accepted by consensus.")

        assert "written before" in refused.value.message
        course.refresh_from_db()
        assert course.first_date == datetime.date(2027, 4, 1)

    def test_moving_into_an_absolute_window_is_refused_and_nothing_changes(
            self, clinician, plan):
        course = plan_procedure_add(user=clinician, plan=plan,
                                    treatment=Treatment.objects.get(code=RF),
                                    first_date=AFTER_BOTH_WINDOWS)

        with pytest.raises(PlanRuleError, match="possible from 2027-03-02") as refused:
            plan_procedure_reschedule(user=clinician, plan=plan, procedure=course,
                                      first_date=datetime.date(2027, 2, 1))

        assert refused.value.field == "first_date"
        course.refresh_from_db()
        assert course.first_date == AFTER_BOTH_WINDOWS
        assert course.reviewed_flags == []

    def test_moving_out_of_a_window_drops_its_flag_and_its_justification(
            self, clinician, plan):
        course = plan_procedure_add(user=clinician, plan=plan,
                                    treatment=Treatment.objects.get(code=NEEDLING),
                                    first_date=datetime.date(2027, 1, 10),
                                    justification="Consensus allows it.")

        moved = plan_procedure_reschedule(user=clinician, plan=plan, procedure=course,
                                          first_date=AFTER_BOTH_WINDOWS)

        assert moved.reviewed_flags == []
        assert moved.justification == "" and moved.justified_by is None

    def test_a_shared_plan_cannot_be_moved(self, clinician, plan, later_course):
        plan_status_change(user=clinician, plan=plan, to="shared")

        with pytest.raises(PlanRuleError, match="Only a draft plan"):
            plan_procedure_reschedule(user=clinician, plan=plan, procedure=later_course,
                                      first_date=datetime.date(2027, 10, 1))

    def test_the_page_shows_a_refusal_beside_the_date_and_keeps_the_input(
            self, client_as, clinician, plan):
        course = plan_procedure_add(user=clinician, plan=plan,
                                    treatment=Treatment.objects.get(code=RF),
                                    first_date=AFTER_BOTH_WINDOWS)
        client = client_as(clinician)
        assert client.get(edit_url(course)).context["form"]["first_date"].value() == (
            AFTER_BOTH_WINDOWS)

        response = client.post(edit_url(course), {"sessions": "3", "interval_weeks": "4",
                                                  "first_date": "2027-02-01",
                                                  "notes": "Lower face"})

        assert response.status_code == 200
        form = response.context["form"]
        assert "possible from 2027-03-02" in " ".join(form.errors["first_date"])
        assert form["notes"].value() == "Lower face"
        assert form["sessions"].value() == "3"

        saved = client.post(edit_url(course), {"sessions": "3", "interval_weeks": "4",
                                               "first_date": "2027-03-02",
                                               "notes": "Lower face"})

        assert saved.status_code == 302
        course.refresh_from_db()
        assert course.proposed_dates() == [datetime.date(2027, 3, 2),
                                           datetime.date(2027, 3, 30),
                                           datetime.date(2027, 4, 27)]
        assert course.notes == "Lower face"

    def test_another_clinics_procedure_cannot_be_reached(
            self, client_as, other_clinic, later_course):
        outsider = UserFactory(clinic=other_clinic, role=CLINICIAN)

        assert client_as(outsider).post(edit_url(later_course), {
            "sessions": "1", "first_date": "2027-10-01"}).status_code == 404
        later_course.refresh_from_db()
        assert later_course.first_date == AFTER_BOTH_WINDOWS


class TestThePlanPage:
    def plan_page(self, client, plan):
        return client.get(reverse("consultations:plan-detail", args=[plan.pk]))

    def test_shows_the_earliest_possible_date_of_each_procedure(
            self, client_as, clinician, plan, monkeypatch):
        monkeypatch.setattr("django.utils.timezone.localdate",
                            lambda *args: datetime.date(2026, 12, 1))
        plan_procedure_add(user=clinician, plan=plan, treatment=Treatment.objects.get(code=RF),
                           first_date=AFTER_BOTH_WINDOWS)

        page = self.plan_page(client_as(clinician), plan)

        check = page.context["rows"][0]["check"]
        assert check.possible_from == datetime.date(2027, 3, 2)
        assert "Earliest possible date: 2 Mar 2027" in page.content.decode()

    def test_offers_a_procedure_ruled_out_only_until_a_date_with_that_date(
            self, client_as, clinician, plan, monkeypatch):
        monkeypatch.setattr("django.utils.timezone.localdate",
                            lambda *args: datetime.date(2026, 12, 1))
        client = client_as(clinician)

        page = self.plan_page(client, plan)

        later = {result.code: result.suitable_from for result in page.context["later"]}
        assert later[RF] == datetime.date(2027, 3, 2)
        add = client.get(reverse("consultations:plan-procedure-add", args=[plan.pk]),
                         {"treatment": RF})
        assert add.context["form"]["first_date"].value() == datetime.date(2027, 3, 2)
        assert "possible from 2 March 2027" in add.content.decode()

    def test_an_undated_session_is_checked_again_as_the_days_pass(
            self, client_as, clinician, plan, monkeypatch):
        """A caution from a date lapses on its day: a plan viewed after it no longer shows
        it, and the earliest date moves with today."""
        today = {"day": datetime.date(2026, 12, 1)}
        monkeypatch.setattr("django.utils.timezone.localdate", lambda *args: today["day"])
        plan_procedure_add(user=clinician, plan=plan,
                           treatment=Treatment.objects.get(code=NEEDLING),
                           justification="Consensus allows needling after isotretinoin.")
        client = client_as(clinician)
        flags = {flag.code for flag in self.plan_page(client, plan).context["rows"][0][
            "check"].flags}
        assert {"isotretinoin_6m", "isotretinoin_12m"} <= flags

        today["day"] = datetime.date(2027, 9, 2)  # both windows have lapsed
        page = self.plan_page(client, plan)

        check = page.context["rows"][0]["check"]
        assert not {flag.code for flag in check.flags} & {"isotretinoin_6m", "isotretinoin_12m"}
        assert check.possible_from == datetime.date(2027, 9, 2)
        assert not page.context["needs_review"]

    def test_offers_only_the_moves_the_plan_state_allows(self, client_as, clinician, plan):
        client = client_as(clinician)
        draft = [move[0] for move in self.plan_page(client, plan).context["moves"]]
        plan_procedure_add(user=clinician, plan=plan,
                           treatment=Treatment.objects.get(code=NEEDLING),
                           first_date=AFTER_BOTH_WINDOWS)
        plan_status_change(user=clinician, plan=plan, to="shared")
        shared = [move[0] for move in self.plan_page(client, plan).context["moves"]]
        plan_status_change(user=clinician, plan=plan, to="accepted")
        accepted = [(to, reason) for to, _label, _style, reason in self.plan_page(
            client, plan).context["moves"]]

        assert draft == ["withdrawn"]
        assert shared == ["draft", "accepted", "withdrawn"]
        assert accepted == [("draft", True), ("withdrawn", True)]


class TestTheMinimumIntervalBetweenSessions:
    """BOTOX Cosmetic is labelled for no more than one treatment every three months."""

    @pytest.fixture
    def toxin_plan(self, client_as, clinician, clinic):
        consultation = intake_submitted(client_as(clinician), PatientFactory(clinic=clinic),
                                        concern_acne_scars=None,
                                        concern_wrinkles_dynamic="moderate")
        return plan_create(user=clinician, consultation=consultation)

    def test_sessions_closer_than_the_minimum_are_refused(self, clinician, toxin_plan):
        with pytest.raises(PlanRuleError, match="space the sessions") as refused:
            plan_procedure_add(user=clinician, plan=toxin_plan,
                               treatment=Treatment.objects.get(code="BOTOX"), sessions=2,
                               interval_weeks=8, first_date=datetime.date(2027, 1, 4))

        assert refused.value.field == "interval_weeks"
        assert not PlannedProcedure.objects.exists()

    def test_sessions_as_far_apart_as_the_label_asks_are_accepted(self, clinician,
                                                                   toxin_plan):
        procedure = plan_procedure_add(user=clinician, plan=toxin_plan,
                                       treatment=Treatment.objects.get(code="BOTOX"),
                                       sessions=2, interval_weeks=14,
                                       first_date=datetime.date(2027, 1, 4))

        assert procedure.proposed_dates() == [datetime.date(2027, 1, 4),
                                              datetime.date(2027, 4, 12)]

    def test_an_undated_course_is_held_to_it_too(self, clinician, toxin_plan):
        with pytest.raises(PlanRuleError, match="space the sessions"):
            plan_procedure_add(user=clinician, plan=toxin_plan,
                               treatment=Treatment.objects.get(code="BOTOX"), sessions=3,
                               interval_weeks=4)


def test_a_first_date_beyond_ten_years_is_refused_beside_the_field(client_as, clinician, plan):
    url = reverse("consultations:plan-procedure-add", args=[plan.pk])

    response = client_as(clinician).post(url, {"treatment": NEEDLING, "sessions": "24",
                                               "interval_weeks": "104",
                                               "first_date": "9999-12-31"})

    assert response.status_code == 200
    assert "within ten years" in " ".join(response.context["form"].errors["first_date"])
    assert not PlannedProcedure.objects.exists()
