"""The catalogue's coverage data as the loader brings it in: reviewed decisions, the steps'
own contraindications, the rules' evidence of disagreement, and the whole shipped catalogue
held to the evidence it must carry."""

import copy

import pytest

from treatments.loading import CatalogueFileError, catalogue_file_read, catalogue_load
from treatments.models import (
    CatalogueChange,
    ContraindicationRule,
    CoverageDecision,
    EvidenceSource,
    Requirement,
    RequirementContraindication,
)
from treatments.services import catalogue_record_save

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def data():
    return catalogue_file_read()


def with_decision(data, **entry):
    changed = copy.deepcopy(data)
    changed["coverage_decisions"]["decisions"].append({
        "reason": "no bearing", "basis": "principle", "confidence": "low",
        "sources": [data["sources"][-1]["key"]], **entry})
    return changed


def uncovered_pair(data):
    """A (treatment, condition) pair the shipped file neither rules nor decides."""
    ruled = {(t["code"], r["condition"]) for t in data["treatments"]
             for r in t["contraindications"]}
    decided = {(e.get("treatment"), c) for e in data["coverage_decisions"]["decisions"]
               for c in e["conditions"]}
    decided_categories = {(e.get("category"), c) for e in data["coverage_decisions"]["decisions"]
                          for c in e["conditions"]}
    for treatment in data["treatments"]:
        for condition in data["conditions"]:
            pair = (treatment["code"], condition["code"])
            if pair not in ruled and pair not in decided and (
                    treatment["category"], condition["code"]) not in decided_categories:
                return pair
    return None


class TestDecisions:
    def test_the_shipped_decisions_load_once_and_a_rerun_changes_nothing(self, data):
        expected = sum(len(e["conditions"]) for e in data["coverage_decisions"]["decisions"])
        assert CoverageDecision.objects.count() == expected
        history = CatalogueChange.objects.count()

        report = catalogue_load()

        assert CoverageDecision.objects.count() == expected
        assert report.created["coveragedecision"] == 0
        assert report.updated["coveragedecision"] == 0
        assert CatalogueChange.objects.count() == history

    def test_a_decision_keeps_its_evidence_and_reviewer(self, data):
        entry = data["coverage_decisions"]["decisions"][0]
        decision = CoverageDecision.objects.filter(condition__code=entry["conditions"][0]).filter(
            treatment__code=entry.get("treatment"), category__code=entry.get("category")).get()
        assert decision.reason == entry["reason"]
        assert decision.basis.code == entry["basis"]
        assert {s.key for s in decision.sources.all()} == set(entry["sources"])
        assert decision.reviewed_by == data["coverage_decisions"]["reviewed_by"]

    def test_an_admins_edit_of_a_decision_survives_a_rerun(self, catalogue_admin):
        decision = CoverageDecision.objects.first()
        decision.reason = "Reviewed again by the clinic's lead: still no bearing."
        catalogue_record_save(actor=catalogue_admin, instance=decision,
                              changes={"reason": ["...", decision.reason]}, created=False)

        report = catalogue_load()

        decision.refresh_from_db()
        assert decision.reason.startswith("Reviewed again")
        assert report.skipped["coveragedecision"] == 1

    def test_a_decision_for_an_unknown_condition_is_refused_and_nothing_is_written(self, data):
        pair = uncovered_pair(data) or (data["treatments"][0]["code"], "x")
        broken = with_decision(data, treatment=pair[0], conditions=["no_such_condition"])
        decisions, rules = CoverageDecision.objects.count(), ContraindicationRule.objects.count()
        history = CatalogueChange.objects.count()

        with pytest.raises(CatalogueFileError, match="no_such_condition"):
            catalogue_load(data=broken)

        assert CoverageDecision.objects.count() == decisions
        assert ContraindicationRule.objects.count() == rules
        assert CatalogueChange.objects.count() == history

    def test_a_decision_for_an_unknown_treatment_is_refused(self, data):
        broken = with_decision(data, treatment="NO_SUCH_TREATMENT", conditions=["pregnancy"])

        with pytest.raises(CatalogueFileError, match="NO_SUCH_TREATMENT"):
            catalogue_load(data=broken)

    def test_a_decision_beside_a_rule_for_the_same_pair_is_refused(self, data):
        treatment = data["treatments"][0]
        condition = treatment["contraindications"][0]["condition"]
        broken = with_decision(data, treatment=treatment["code"], conditions=[condition])

        with pytest.raises(CatalogueFileError, match="both a rule and a decision"):
            catalogue_load(data=broken)

    def test_a_decision_without_sources_is_refused(self, data):
        broken = with_decision(data, category="chemical_peel", conditions=["pregnancy"])
        broken["coverage_decisions"]["decisions"][-1]["sources"] = []

        with pytest.raises(CatalogueFileError, match="at least one source"):
            catalogue_load(data=broken)

    def test_a_rule_that_replaces_an_earlier_decision_removes_it(self, data):
        decision = CoverageDecision.objects.filter(treatment__isnull=False).select_related(
            "treatment", "condition").first()
        changed = copy.deepcopy(data)
        changed["coverage_decisions"]["decisions"] = [
            {**e, "conditions": [c for c in e["conditions"] if not (
                e.get("treatment") == decision.treatment.code and c == decision.condition.code)]}
            for e in changed["coverage_decisions"]["decisions"]]
        row = next(t for t in changed["treatments"] if t["code"] == decision.treatment.code)
        row["contraindications"].append({
            "condition": decision.condition.code, "severity": "relative",
            "rationale": "A new source names it.", "basis": "review", "confidence": "low",
            "sources": [data["sources"][-1]["key"]]})

        catalogue_load(data=changed)

        assert not CoverageDecision.objects.filter(pk=decision.pk).exists()
        assert ContraindicationRule.objects.filter(
            treatment=decision.treatment, condition=decision.condition).exists()
        assert CatalogueChange.objects.filter(model="coveragedecision", action="deleted",
                                              object_id=str(decision.pk)).exists()


class TestStepsAndRules:
    def test_every_step_says_what_it_is_and_who_must_not_receive_it(self, data):
        for row in data["requirements"]:
            assert row["kind"] in {"medicine", "procedure", "instruction"}, row["code"]
            assert row["safety_note"].strip(), row["code"]
        assert Requirement.objects.exclude(safety_note="").count() == len(data["requirements"])

    def test_a_steps_contraindications_name_a_step_to_propose_instead_where_one_exists(self):
        swaps = RequirementContraindication.objects.exclude(alternative=None)
        assert swaps.exists()
        for item in swaps.select_related("requirement", "alternative"):
            assert item.alternative != item.requirement

    def test_a_rule_records_which_of_its_sources_call_it_a_contraindication(self):
        rule = ContraindicationRule.objects.exclude(contraindicated_by=None).first()
        assert rule is not None
        assert set(rule.contraindicated_by.all()) <= set(rule.sources.all())


class TestShippedEvidence:
    """Every rule and decision of the shipped catalogue carries its rationale, basis,
    confidence and sources; every source other than the clinic's own reference texts has an
    address."""

    def test_every_rule_carries_its_evidence(self, data):
        bases = {b["code"] for b in data["evidence_bases"]}
        for treatment in data["treatments"]:
            for rule in treatment["contraindications"]:
                where = (treatment["code"], rule["condition"])
                assert rule["rationale"].strip(), where
                assert rule.get("basis") in bases, where
                assert rule.get("confidence") in {"high", "medium", "low"}, where
                assert rule["sources"], where

    def test_every_decision_carries_its_evidence(self, data):
        bases = {b["code"] for b in data["evidence_bases"]}
        for entry in data["coverage_decisions"]["decisions"]:
            where = (entry.get("treatment") or entry.get("category"), entry["conditions"])
            assert entry["reason"].strip(), where
            assert entry["basis"] in bases, where
            assert entry["confidence"] in {"high", "medium", "low"}, where
            assert entry["sources"], where

    def test_every_step_contraindication_carries_its_evidence(self, data):
        for row in data["requirements"]:
            for item in row.get("contraindications") or []:
                assert item["rationale"].strip() and item["sources"], row["code"]

    def test_every_source_but_the_reference_texts_has_an_address(self):
        missing = EvidenceSource.objects.exclude(type=EvidenceSource.Type.SEED).filter(url="")
        assert list(missing.values_list("key", flat=True)) == []

    def test_a_relative_rule_a_source_calls_a_contraindication_records_the_disagreement(
            self, data):
        for treatment in data["treatments"]:
            for rule in treatment["contraindications"]:
                if rule["severity"] == "relative" and rule.get("contraindicated_by"):
                    assert rule.get("disagreement"), (treatment["code"], rule["condition"])
