"""The coverage grid and reviewed decisions in the admin: who may see them, what each cell
says and links to, the CSV export, and decisions saved with their reviewer and history."""

import csv
import io

import pytest
from django.urls import reverse

from treatments.models import (
    CatalogueChange,
    Condition,
    ContraindicationRule,
    CoverageDecision,
    EvidenceBasis,
    EvidenceSource,
    Treatment,
)

pytestmark = pytest.mark.django_db

GRID = "admin:treatments_coverage_grid"


@pytest.fixture
def admin_client(client_as, catalogue_admin):
    return client_as(catalogue_admin)


class TestGridAccess:
    def test_a_catalogue_admin_sees_every_condition_against_every_treatment(self,
                                                                            admin_client):
        response = admin_client.get(reverse(GRID))

        grid = response.context["grid"]
        assert response.status_code == 200
        assert len(grid.rows) == Condition.objects.filter(active=True).count()
        assert sum(len(members) for _c, _l, members in grid.columns) == \
            Treatment.objects.filter(active=True).count()
        assert grid.totals["unreviewed"] == 0

    def test_a_clinician_is_refused(self, client_as, clinician):
        assert client_as(clinician).get(reverse(GRID)).status_code == 403

    def test_a_visitor_is_sent_to_sign_in(self, client):
        response = client.get(reverse(GRID))

        assert response.status_code == 302
        assert response["Location"].startswith(reverse("clinic:sign-in"))

    def test_reads_a_bounded_number_of_queries(self, admin_client,
                                               django_assert_max_num_queries):
        admin_client.get(reverse(GRID))
        with django_assert_max_num_queries(16):
            admin_client.get(reverse(GRID))


class TestCells:
    def test_a_rule_cell_names_its_severity_and_links_to_the_rule(self, admin_client):
        rule = ContraindicationRule.objects.get(treatment__code="CO2_FRAC",
                                                condition__code="pregnancy")

        response = admin_client.get(reverse(GRID))

        row = next(r for r in response.context["grid"].rows if r.condition == "pregnancy")
        cell = next(c for c in row.cells if c.treatment == "CO2_FRAC")
        assert (cell.state, cell.rule) == ("absolute", rule.pk)
        assert reverse("admin:treatments_contraindicationrule_change",
                       args=[rule.pk]) in response.text

    def test_a_category_decision_cell_links_to_the_decision(self, admin_client):
        decision = CoverageDecision.objects.filter(category__isnull=False).select_related(
            "condition", "category").first()
        treatment = Treatment.objects.filter(category=decision.category).exclude(
            rules__condition=decision.condition).exclude(
            coverage_decisions__condition=decision.condition).first()

        response = admin_client.get(reverse(GRID))

        row = next(r for r in response.context["grid"].rows
                   if r.condition == decision.condition.code)
        cell = next(c for c in row.cells if c.treatment == treatment.code)
        assert (cell.state, cell.decision) == ("decided_category", decision.pk)

    def test_a_pair_left_without_rule_or_decision_shows_and_links_to_a_new_decision(
            self, admin_client):
        treatment = Treatment.objects.get(code="SILICONE_GEL")
        condition = Condition.objects.get(code="epilepsy")
        CoverageDecision.objects.filter(condition=condition, treatment=treatment).delete()
        CoverageDecision.objects.filter(condition=condition,
                                        category=treatment.category).delete()
        ContraindicationRule.objects.filter(condition=condition, treatment=treatment).delete()

        response = admin_client.get(reverse(GRID) + "?state=unreviewed")

        (row,) = response.context["grid"].rows
        assert row.condition == "epilepsy" and row.counts["unreviewed"] >= 1
        add = reverse("admin:treatments_coveragedecision_add")
        assert f"{add}?condition={condition.pk}&amp;treatment={treatment.pk}" in response.text

    def test_filters_narrow_rows_and_columns(self, admin_client):
        response = admin_client.get(reverse(GRID) + "?condition_category=allergies"
                                    "&treatment_category=chemical_peel")

        grid = response.context["grid"]
        assert {code for code, _label, _members in grid.columns} == {"chemical_peel"}
        assert grid.rows and all(r.category == "Allergies" for r in grid.rows)

    def test_an_unknown_filter_value_is_ignored_not_an_error(self, admin_client):
        response = admin_client.get(reverse(GRID) + "?state=%3Cscript%3E&treatment_category=x")

        assert response.status_code == 200
        assert response.context["filters"] == {"condition_category": "",
                                               "treatment_category": "", "state": ""}


class TestCsv:
    def test_exports_one_row_per_condition_with_every_treatment_and_counts(self,
                                                                           admin_client):
        response = admin_client.get(reverse("admin:treatments_coverage_grid_csv"))

        rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert response["Content-Type"].startswith("text/csv")
        assert "attachment" in response["Content-Disposition"]
        header, body = rows[0], rows[1:]
        assert header[:2] == ["condition", "label"] and "CO2_FRAC" in header
        assert len(body) == Condition.objects.filter(active=True).count()
        pregnancy = next(r for r in body if r[0] == "pregnancy")
        assert pregnancy[header.index("CO2_FRAC")] == "absolute"

    def test_a_clinician_cannot_export(self, client_as, clinician):
        response = client_as(clinician).get(reverse("admin:treatments_coverage_grid_csv"))

        assert response.status_code == 403


class TestDecisionsInTheAdmin:
    def add(self, client, **fields):
        return client.post(reverse("admin:treatments_coveragedecision_add"), {
            "reason": "", "basis": "", "confidence": "", **fields})

    def free_pair(self):
        treatment = Treatment.objects.get(code="SILICONE_GEL")
        condition = Condition.objects.get(code="epilepsy")
        CoverageDecision.objects.filter(condition=condition).filter(
            treatment=treatment).delete()
        CoverageDecision.objects.filter(condition=condition,
                                        category=treatment.category).delete()
        return treatment, condition

    def test_a_decision_is_saved_with_its_reviewer_and_recorded(self, admin_client,
                                                                catalogue_admin):
        treatment, condition = self.free_pair()
        source = EvidenceSource.objects.exclude(url="").first()

        response = self.add(admin_client, condition=condition.pk, treatment=treatment.pk,
                            reason="A gel on the skin has no route to the brain.",
                            basis=EvidenceBasis.objects.get(code="principle").pk,
                            confidence="medium", sources=[source.pk])

        assert response.status_code == 302
        decision = CoverageDecision.objects.get(condition=condition, treatment=treatment)
        assert decision.reviewed_by == catalogue_admin.username
        entry = CatalogueChange.objects.filter(model="coveragedecision",
                                               object_id=str(decision.pk)).get()
        assert entry.actor == catalogue_admin and entry.treatment_code == "SILICONE_GEL"
        assert decision.customised_at is not None

    def test_a_decision_without_a_source_is_refused_and_nothing_is_saved(self, admin_client):
        treatment, condition = self.free_pair()

        response = self.add(admin_client, condition=condition.pk, treatment=treatment.pk,
                            reason="No bearing.", confidence="low",
                            basis=EvidenceBasis.objects.get(code="principle").pk)

        assert response.status_code == 200
        errors = response.context["adminform"].form.errors
        assert "at least one source" in str(errors["sources"])
        assert response.context["adminform"].form["reason"].value() == "No bearing."
        assert not CoverageDecision.objects.filter(condition=condition,
                                                   treatment=treatment).exists()

    def test_a_decision_beside_a_rule_is_refused(self, admin_client):
        rule = ContraindicationRule.objects.select_related("treatment", "condition").first()
        source = EvidenceSource.objects.first()

        response = self.add(admin_client, condition=rule.condition.pk,
                            treatment=rule.treatment.pk, reason="Not needed.",
                            basis=EvidenceBasis.objects.get(code="principle").pk,
                            confidence="low", sources=[source.pk])

        assert response.status_code == 200
        assert "has a rule for this condition" in str(response.context["adminform"].form.errors)

    def test_a_decision_for_both_a_treatment_and_a_category_is_refused(self, admin_client):
        treatment, condition = self.free_pair()
        source = EvidenceSource.objects.first()

        response = self.add(admin_client, condition=condition.pk, treatment=treatment.pk,
                            category=treatment.category.pk, reason="Not needed.",
                            basis=EvidenceBasis.objects.get(code="principle").pk,
                            confidence="low", sources=[source.pk])

        assert response.status_code == 200
        assert "not both" in str(response.context["adminform"].form.errors)
