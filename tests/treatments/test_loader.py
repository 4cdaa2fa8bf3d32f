"""The shipped catalogue: what the data file holds, and how `load_catalogue` brings it into
the database (completely, idempotently, and without undoing an admin's edits)."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.treatments import knowledge_base_codes as kb
from treatments.loading import (
    CatalogueFileError,
    catalogue_file_read,
    translation_files_read,
    catalogue_load,
    parse_applies_if,
    parse_days,
)
from treatments.models import (
    AftercareStep,
    CatalogueChange,
    Concern,
    ConcernExclusion,
    Condition,
    ConditionWindow,
    ConflictPolicy,
    ContraindicationRule,
    CoverageDecision,
    DatedQuestion,
    DepthLevel,
    Disagreement,
    EvidenceBasis,
    EvidenceSource,
    Indication,
    Mechanism,
    PreTreatmentRequirement,
    Requirement,
    RequirementContraindication,
    TextTranslation,
    Treatment,
    TreatmentCategory,
    TreatmentConsent,
)
from treatments.services import catalogue_record_save

CATALOGUE_MODELS = [
    Treatment, Indication, ConcernExclusion, ContraindicationRule, PreTreatmentRequirement,
    AftercareStep, Concern, Condition, Requirement, Mechanism, DepthLevel, TreatmentCategory,
    EvidenceBasis, EvidenceSource, ConflictPolicy, Disagreement, DatedQuestion, ConditionWindow,
    TextTranslation, CoverageDecision, RequirementContraindication, TreatmentConsent,
]


@pytest.fixture(scope="module")
def data():
    return catalogue_file_read()


def counts():
    return {model.__name__: model.objects.count() for model in CATALOGUE_MODELS}


def catalogue_wipe():
    CoverageDecision.objects.all().delete()
    RequirementContraindication.objects.all().delete()
    TextTranslation.objects.all().delete()
    Treatment.objects.all().delete()
    for model in [DatedQuestion, Condition, Concern, Requirement, Mechanism, DepthLevel, TreatmentCategory,
                  EvidenceBasis, Disagreement, EvidenceSource, ConflictPolicy]:
        model.objects.all().delete()


class TestDataFile:
    def test_holds_all_27_treatments_of_the_knowledge_base(self, data):
        assert [t["code"] for t in data["treatments"]] == kb.TREATMENTS
        assert len(data["treatments"]) == 27

    @pytest.mark.parametrize("section, key, expected", [
        ("concerns", "code", kb.CONCERNS),
        ("conditions", "code", kb.CONDITIONS),
        ("requirements", "code", kb.REQUIREMENTS),
        ("mechanisms", "code", kb.MECHANISMS),
        ("depth_levels", "code", kb.DEPTH_LEVELS),
        ("categories", "code", kb.CATEGORIES),
        ("evidence_bases", "code", kb.EVIDENCE_BASES),
        ("sources", "key", kb.SOURCES),
        ("disagreements", "code", kb.DISAGREEMENTS),
    ])
    def test_holds_every_code_of_the_knowledge_base_in_its_order(self, data, section, key,
                                                                   expected):
        codes = [row[key] for row in data[section]]
        assert [code for code in codes if code in expected] == expected

    def test_keeps_every_rule_of_the_knowledge_base_never_weaker(self, data):
        """The sources may make a rule stricter than the knowledge base had it, never
        milder, and never drop it."""
        strictness = {"informational": 0, "relative": 1, "absolute": 2}
        rules = {(t["code"], rule["condition"]): rule["severity"]
                 for t in data["treatments"] for rule in t["contraindications"]}
        assert len(kb.RULES) == kb.RULE_COUNT
        for treatment, condition, severity in kb.RULES:
            assert (treatment, condition) in rules, (treatment, condition)
            assert strictness[rules[treatment, condition]] >= strictness[severity], (
                treatment, condition)

    def test_every_rule_explains_itself_and_names_its_evidence(self, data):
        source_keys = {s["key"] for s in data["sources"]}
        bases = {b["code"] for b in data["evidence_bases"]}
        for treatment in data["treatments"]:
            for rule in treatment["contraindications"]:
                assert rule["rationale"].strip(), (treatment["code"], rule["condition"])
                assert set(rule["sources"]) <= source_keys
                if rule["severity"] != "informational":
                    assert rule["basis"] in bases
                    assert rule["confidence"] in {"high", "medium", "low"}

    def test_every_code_the_treatments_use_is_defined(self, data):
        defined = {section: {row.get("code") or row.get("key") for row in data[section]}
                   for section in ["concerns", "conditions", "requirements", "mechanisms",
                                   "sources", "disagreements"]}
        for treatment in data["treatments"]:
            assert set(treatment["mechanisms"]) <= defined["mechanisms"]
            assert set(treatment["disagreements"]) <= defined["disagreements"]
            for indication in treatment["indications"]:
                assert indication["concern"] in defined["concerns"]
            for step in treatment["requirements"]:
                assert step["requirement"] in defined["requirements"]
                for target in step["applies_if"]:
                    assert (target in {"all", "all_full_face_or_perioral"}
                            or target.startswith("fitzpatrick:")
                            or target in defined["conditions"] | defined["concerns"])


@pytest.mark.django_db
class TestLoading:
    def test_loads_every_record_of_the_data_file(self, data):
        def codes(section, key="code"):
            return {row[key] for row in data[section]}

        assert set(Treatment.objects.values_list("code", flat=True)) == codes("treatments")
        assert set(Concern.objects.values_list("code", flat=True)) == codes("concerns")
        assert set(Condition.objects.values_list("code", flat=True)) == codes("conditions")
        assert set(Requirement.objects.values_list("code", flat=True)) == codes("requirements")
        assert set(EvidenceSource.objects.values_list("key", flat=True)) == codes("sources",
                                                                                   "key")
        stored_rules = set(ContraindicationRule.objects.values_list(
            "treatment__code", "condition__code", "severity"))
        assert stored_rules == {(t["code"], rule["condition"], rule["severity"])
                                for t in data["treatments"] for rule in t["contraindications"]}
        decisions = [(entry.get("treatment"), entry.get("category"), code)
                     for entry in data["coverage_decisions"]["decisions"]
                     for code in entry["conditions"]]
        assert CoverageDecision.objects.count() == len(decisions)
        assert set(CoverageDecision.objects.values_list(
            "treatment__code", "category__code", "condition__code")) == set(decisions)
        assert PreTreatmentRequirement.objects.count() == kb.REQUIREMENT_STEP_COUNT
        assert AftercareStep.objects.count() == kb.AFTERCARE_STEP_COUNT
        assert Indication.objects.count() == kb.INDICATION_COUNT

    def test_a_rule_keeps_its_evidence(self):
        rule = ContraindicationRule.objects.get(treatment__code="CO2_FRAC",
                                                condition__code="pregnancy")
        assert rule.severity == "absolute"
        assert rule.basis.code == "seed"
        assert rule.confidence == "medium"
        assert {s.key for s in rule.sources.all()} == {"SEED004", "S_MAYO_VIA_REFERENCE"}
        assert rule.rationale

    def test_phototypes_unsourced_values_and_implications_are_kept(self):
        ipl = Treatment.objects.get(code="IPL")
        assert (ipl.fitzpatrick_suitable, ipl.fitzpatrick_caution, ipl.fitzpatrick_excluded) == (
            ["I", "II", "III", "IV"], ["V"], ["VI"])
        assert ipl.pih_risk["V"] == "high"
        pdl = Treatment.objects.get(code="PDL_VASCULAR")
        assert pdl.fitzpatrick_unsourced is True
        assert set(pdl.pih_risk.values()) == {"unsourced"}
        current = Condition.objects.get(code="isotretinoin_current")
        assert {c.code for c in current.implies.all()} == {"isotretinoin_6m", "isotretinoin_12m"}

    def test_requirement_targets_are_parsed(self):
        step = PreTreatmentRequirement.objects.get(
            treatment__code="IPL", requirement__code="antiviral_prophylaxis")
        assert [c.code for c in step.conditions.all()] == ["herpes_simplex_history"]
        assert step.applies_to_all is False
        toned = PreTreatmentRequirement.objects.filter(phototype_from="IV", phototype_to="VI")
        assert toned.exists()

    def test_a_second_run_changes_nothing(self):
        before = counts()
        history_before = CatalogueChange.objects.count()

        report = catalogue_load()

        assert counts() == before
        assert not report.changed_anything
        assert sum(report.unchanged.values()) == sum(before.values())
        assert CatalogueChange.objects.count() == history_before

    def test_a_first_run_creates_everything_and_records_it(self):
        expected = counts()
        last_entry = CatalogueChange.objects.order_by("id").last()
        catalogue_wipe()
        assert Treatment.objects.count() == 0

        report = catalogue_load()

        assert counts() == expected
        assert sum(report.created.values()) == sum(expected.values())
        created = CatalogueChange.objects.filter(action="created", id__gt=last_entry.id)
        assert created.count() == sum(expected.values())
        assert set(created.values_list("actor_label", flat=True)) == {"catalogue loader"}

    def test_an_admins_edit_survives_a_rerun_and_reset_restores_the_file(self, catalogue_admin):
        rule = ContraindicationRule.objects.get(treatment__code="IPL",
                                                condition__code="herpes_simplex_history")
        rule.severity = "absolute"
        catalogue_record_save(actor=catalogue_admin, instance=rule,
                              changes={"severity": ["relative", "absolute"]}, created=False)

        report = catalogue_load()

        rule.refresh_from_db()
        assert rule.severity == "absolute"
        assert report.skipped["contraindicationrule"] == 1
        assert any("IPL" in line for line in report.skipped_records)

        report = catalogue_load(reset=True)

        rule.refresh_from_db()
        assert rule.severity == "relative"
        assert rule.customised_at is None
        assert report.updated["contraindicationrule"] == 1

    def test_a_changed_file_updates_records_nobody_edited(self, data):
        changed = {**data, "treatments": [dict(t) for t in data["treatments"]]}
        changed["treatments"][0]["downtime"] = {**changed["treatments"][0]["downtime"],
                                                 "max_days": 9}

        report = catalogue_load(data=changed)

        assert Treatment.objects.get(code=kb.TREATMENTS[0]).downtime_max_days == 9
        assert report.updated == {"treatment": 1}
        entry = CatalogueChange.objects.filter(model="treatment", action="changed").latest("id")
        assert entry.changes["downtime_max_days"] == [7, 9]

    def test_a_file_that_names_an_unknown_code_loads_nothing(self, data):
        broken = {**data, "treatments": [dict(t) for t in data["treatments"]]}
        broken["treatments"][-1]["category"] = "no_such_category"
        catalogue_wipe()

        with pytest.raises(CatalogueFileError, match="no_such_category"):
            catalogue_load(data=broken)

        assert Treatment.objects.count() == 0
        assert EvidenceSource.objects.count() == 0

    def test_a_file_that_breaks_a_catalogue_rule_is_refused(self, data):
        broken = {**data, "treatments": [dict(t) for t in data["treatments"]]}
        broken["treatments"][0]["downtime"] = {"min_days": 9, "max_days": 2, "note": "",
                                               "sources": []}
        with pytest.raises(CatalogueFileError, match="Downtime ends before it starts"):
            catalogue_load(data=broken)


@pytest.mark.django_db
class TestTranslations:
    def test_the_chinese_file_covers_every_patient_facing_text(self, data):
        (chinese,) = translation_files_read()
        assert chinese["language"] == "zh-hans"
        assert list(chinese["treatments"]) == kb.TREATMENTS
        assert set(chinese["concerns"]) == set(kb.CONCERNS)
        assert set(chinese["conditions"]) == {row["code"] for row in data["conditions"]}
        assert set(chinese["requirements"]) == {row["code"] for row in data["requirements"]}
        assert set(chinese["dated_questions"]) == {row["code"] for row in data["dated_questions"]}
        for treatment in data["treatments"]:
            texts = chinese["treatments"][treatment["code"]]
            assert len(texts["timings"]) == len(treatment["requirements"])
            assert len(texts["patient_timings"]) == len(treatment["requirements"])
            assert len(texts["aftercare"]) == len(treatment["aftercare"])
            assert texts["name"] and texts["patient_description"]

    def test_translations_are_loaded_by_record_and_field(self):
        co2 = Treatment.objects.get(code="CO2_FRAC")
        names = TextTranslation.objects.filter(object_id=co2.pk, field="name",
                                               content_type__model="treatment")
        assert names.get().language == "zh-hans"
        assert "CO2" in names.get().text
        step = AftercareStep.objects.filter(treatment=co2).first()
        assert TextTranslation.objects.filter(content_type__model="aftercarestep",
                                              object_id=step.pk, field="patient_text").exists()

    def test_a_step_keeps_both_timings_and_their_chinese(self, data):
        (chinese,) = translation_files_read()
        (row,) = [t for t in data["treatments"] if t["code"] == "ERYAG"]
        (item,) = row["requirements"]
        step = PreTreatmentRequirement.objects.get(treatment__code="ERYAG")

        texts = dict(TextTranslation.objects.filter(
            content_type__model="pretreatmentrequirement", object_id=step.pk,
            language="zh-hans").values_list("field", "text"))

        assert (step.timing, step.patient_timing) == (item["timing"], item["patient_timing"])
        assert step.timing != step.patient_timing
        assert texts == {"timing": chinese["treatments"]["ERYAG"]["timings"][0],
                         "patient_timing": chinese["treatments"]["ERYAG"]["patient_timings"][0]}

    def test_a_requirement_keeps_both_labels_and_their_chinese(self, data):
        (chinese,) = translation_files_read()
        (row,) = [r for r in data["requirements"] if r["code"] == "antiviral_prophylaxis"]
        requirement = Requirement.objects.get(code="antiviral_prophylaxis")

        texts = dict(TextTranslation.objects.filter(
            content_type__model="requirement", object_id=requirement.pk,
            language="zh-hans").values_list("field", "text"))

        assert (requirement.label, requirement.patient_label) == (row["label"],
                                                                  row["patient_label"])
        assert requirement.patient_label == "Tablets to prevent cold sores"
        assert texts["label"] == chinese["requirements"]["antiviral_prophylaxis"]["label"]
        assert texts["patient_label"] == (
            chinese["requirements"]["antiviral_prophylaxis"]["patient_label"])

    def test_an_admins_patient_label_survives_a_rerun_and_reset_restores_it(
            self, catalogue_admin):
        requirement = Requirement.objects.get(code="test_spot")
        from_file = requirement.patient_label
        requirement.patient_label = "A small try-out first"
        catalogue_record_save(actor=catalogue_admin, instance=requirement,
                              changes={"patient_label": [from_file, requirement.patient_label]},
                              created=False)

        report = catalogue_load()

        requirement.refresh_from_db()
        assert requirement.patient_label == "A small try-out first"
        assert report.skipped["requirement"] == 1

        catalogue_load(reset=True)

        requirement.refresh_from_db()
        assert requirement.patient_label == from_file

    def test_an_admins_patient_timing_survives_a_rerun_and_reset_restores_it(
            self, data, catalogue_admin):
        step = PreTreatmentRequirement.objects.get(treatment__code="ERYAG")
        from_file = step.patient_timing
        step.patient_timing = "Start your tablets the evening before."
        catalogue_record_save(actor=catalogue_admin, instance=step,
                              changes={"patient_timing": [from_file, step.patient_timing]},
                              created=False)

        report = catalogue_load()

        step.refresh_from_db()
        assert step.patient_timing == "Start your tablets the evening before."
        assert report.skipped["pretreatmentrequirement"] == 1

        catalogue_load(reset=True)

        step.refresh_from_db()
        assert step.patient_timing == from_file


@pytest.mark.django_db
class TestCommand:
    def test_reports_what_it_did(self):
        out = StringIO()
        call_command("load_catalogue", stdout=out)
        assert "treatment: 0 created, 0 updated, 27 unchanged, 0 skipped" in out.getvalue()
        assert "treatmentconsent: 0 created, 0 updated, 27 unchanged, 0 skipped" in (
            out.getvalue())
        assert "Catalogue loaded: 0 created, 0 updated" in out.getvalue()

    def test_loads_the_consent_texts_into_an_empty_catalogue(self):
        from treatments.models import TreatmentConsent

        TreatmentConsent.objects.all().delete()

        call_command("load_catalogue", stdout=StringIO())

        assert TreatmentConsent.objects.count() == 27

    def test_a_missing_file_is_a_clear_error(self, tmp_path):
        with pytest.raises(CommandError, match="Catalogue not loaded"):
            call_command("load_catalogue", file=str(tmp_path / "missing.yaml"))


@pytest.mark.parametrize("days, expected", [
    ("0-7", ("days", 0, 7)),
    ("0", ("days", 0, 0)),
    ("28", ("days", 28, 28)),
    ("28-42", ("days", 28, 42)),
    ("0-ongoing", ("ongoing", 0, None)),
    ("daily", ("daily", None, None)),
    ("any later date", ("later", None, None)),
])
def test_aftercare_day_ranges_are_read(days, expected):
    parsed = parse_days(days)
    assert (parsed["period"], parsed["start_day"], parsed["end_day"]) == expected


@pytest.mark.parametrize("applies_if, expected", [
    (["all"], {"applies_to_all": True}),
    (["herpes_simplex_history"], {"conditions": ["herpes_simplex_history"]}),
    (["fitzpatrick:IV-VI"], {"phototype_from": "IV", "phototype_to": "VI"}),
    (["all_full_face_or_perioral"], {"treatment_areas": ["full_face", "perioral"]}),
])
def test_requirement_targets_are_read(applies_if, expected):
    parsed = parse_applies_if(applies_if)
    for key, value in expected.items():
        assert parsed[key] == value
