"""Loading the shipped catalogue (treatments/data/catalogue.yaml) into the database.

The load is idempotent: records are matched by their stable codes, a record whose stored
values already equal the file is left untouched, and a record a catalogue admin has edited
is skipped (reported, not overwritten) unless a reset is asked for. Nothing is deleted:
records admins added themselves stay.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction

from treatments.models import (
    CONSENT_PARTS,
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
    PHOTOTYPES,
    PreTreatmentRequirement,
    Requirement,
    RequirementContraindication,
    Treatment,
    TextTranslation,
    TreatmentConsent,
    TreatmentCategory,
)
from treatments.services import catalogue_change_entry, change_value

CATALOGUE_FILE = Path(__file__).resolve().parent / "data" / "catalogue.yaml"
TRANSLATIONS_DIR = Path(__file__).resolve().parent / "data" / "translations"
CONSENT_FILE = Path(__file__).resolve().parent / "data" / "consent.yaml"

LOADER_REVIEWER = "catalogue review"
AREA_GROUPS = {"all_full_face_or_perioral": ["full_face", "perioral"]}


class CatalogueFileError(Exception):
    """The data file refers to something it does not define, or breaks a catalogue rule."""


def catalogue_file_read(path=CATALOGUE_FILE):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def consent_file_read(path=CONSENT_FILE):
    """The consent texts shipped beside the catalogue, by treatment."""
    return catalogue_file_read(path).get("consents") or []


def translation_files_read(folder=TRANSLATIONS_DIR):
    """Every translations file shipped beside the catalogue (one per language)."""
    return [catalogue_file_read(path) for path in sorted(Path(folder).glob("*.yaml"))]


@dataclass
class LoadReport:
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    skipped_records: list = field(default_factory=list)

    @property
    def changed_anything(self):
        return bool(sum(self.created.values()) or sum(self.updated.values()))

    def lines(self):
        models = sorted(set(self.created) | set(self.updated) | set(self.unchanged)
                        | set(self.skipped))
        for model in models:
            yield (f"{model}: {self.created[model]} created, {self.updated[model]} updated, "
                   f"{self.unchanged[model]} unchanged, {self.skipped[model]} skipped")
        for record in self.skipped_records:
            yield f"skipped (edited by an admin): {record}"


def parse_applies_if(entries):
    """Split a requirement's `applies_if` list into what the model stores."""
    target = {"applies_to_all": False, "conditions": [], "concerns": [],
              "phototype_from": "", "phototype_to": "", "treatment_areas": []}
    for entry in entries:
        if entry == "all":
            target["applies_to_all"] = True
        elif entry in AREA_GROUPS:
            target["treatment_areas"].extend(AREA_GROUPS[entry])
        elif entry.startswith("fitzpatrick:"):
            start, _sep, end = entry.split(":", 1)[1].partition("-")
            target["phototype_from"], target["phototype_to"] = start, end or start
        else:
            target["conditions"].append(entry)
    return target


def requirement_data_key(item):
    """How a pre-treatment step of the data file is recognised in the database."""
    return f"{item['requirement']}|{','.join(item['applies_if'])}|{item['strength']}"


def parse_days(days):
    """An aftercare day range such as '0-7', '0-ongoing', '28', 'daily', 'any later date'."""
    text = str(days).strip()
    if text == "daily":
        return {"period": AftercareStep.Period.DAILY, "start_day": None, "end_day": None}
    if text == "any later date":
        return {"period": AftercareStep.Period.LATER, "start_day": None, "end_day": None}
    start, _sep, end = text.partition("-")
    if end == "ongoing":
        return {"period": AftercareStep.Period.ONGOING, "start_day": int(start), "end_day": None}
    return {"period": AftercareStep.Period.DAYS, "start_day": int(start),
            "end_day": int(end or start)}


class CatalogueLoader:
    def __init__(self, data, *, translations=(), consents=(), reset=False):
        self.data = data
        self.translations = translations
        self.consents = consents
        self.reset = reset
        self.report = LoadReport()
        self.history = []
        self.index = {}
        self.created_pks = defaultdict(set)

    # -- generic upsert ------------------------------------------------------------------

    def existing(self, model, key_fields, m2m=()):
        rows = model.objects.all()
        if m2m:
            rows = rows.prefetch_related(*m2m)
        attnames = [model._meta.get_field(name).attname for name in key_fields]
        return {tuple(getattr(row, name) for name in attnames): row for row in rows}

    def upsert(self, model, existing, key, values, m2m=None):
        """Create or update one record from the file; returns the record."""
        m2m = m2m or {}
        label = model._meta.model_name
        record = existing.get(key)
        if record is None:
            record = model(**values)
            self._validate(record)
            record.save()
            for name, targets in m2m.items():
                getattr(record, name).set(targets)
            existing[key] = record
            self.created_pks[model].add(record.pk)
            self.report.created[label] += 1
            self.history.append(catalogue_change_entry(
                actor=None, instance=record, action=CatalogueChange.Action.CREATED,
                changes={name: [None, change_value(value)] for name, value in
                         {**values, **m2m}.items() if value not in ("", None, [], {})},
            ))
            return record
        changes = {}
        for name, value in values.items():
            field = model._meta.get_field(name)
            if field.is_relation:
                if getattr(record, field.attname) != (value.pk if value is not None else None):
                    changes[name] = [change_value(getattr(record, name)), change_value(value)]
            elif getattr(record, name) != value:
                changes[name] = [change_value(getattr(record, name)), change_value(value)]
        for name, targets in m2m.items():
            current = sorted(change_value(list(getattr(record, name).all())))
            wanted = sorted(change_value(list(targets)))
            if current != wanted:
                changes[name] = [current, wanted]
        if not changes:
            self.report.unchanged[label] += 1
            return record
        if record.customised_at and not self.reset:
            self.report.skipped[label] += 1
            self.report.skipped_records.append(f"{label} {record}")
            return record
        for name, value in values.items():
            setattr(record, name, value)
        record.customised_at = None
        self._validate(record)
        record.save()
        for name, targets in m2m.items():
            getattr(record, name).set(targets)
        self.report.updated[label] += 1
        self.history.append(catalogue_change_entry(
            actor=None, instance=record, action=CatalogueChange.Action.CHANGED, changes=changes,
        ))
        return record

    def _validate(self, record):
        try:
            record.full_clean(validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            raise CatalogueFileError(f"{record._meta.model_name} {record}: {error}") from error

    def lookup(self, kind, code):
        try:
            return self.index[kind][code]
        except KeyError:
            raise CatalogueFileError(f"unknown {kind} code {code!r}") from None

    def lookups(self, kind, codes):
        return [self.lookup(kind, code) for code in codes or []]

    # -- the catalogue, in dependency order ----------------------------------------------

    def load(self):
        self.load_coded(TreatmentCategory, "categories", "code", lambda row: {
            "label": row["label"], "is_product": bool(row.get("is_product")),
        })
        self.load_coded(EvidenceSource, "sources", "key", lambda row: {
            "type": row["type"], "title": row["title"], "authors": row.get("authors") or "",
            "year": row.get("year"), "citation": row.get("citation") or "",
            "url": row.get("url") or "", "note": row.get("note") or "",
        }, m2m=lambda row: {"covers": self.lookups("categories", row.get("covers"))})
        self.load_coded(EvidenceBasis, "evidence_bases", "code", lambda row: {
            "label": row["label"], "description": row.get("description", ""),
        })
        self.load_coded(Mechanism, "mechanisms", "code", lambda row: {
            "label": row["label"], "description": row.get("description", ""),
        }, m2m=lambda row: {"sources": self.lookups("sources", row.get("sources"))})
        self.load_coded(DepthLevel, "depth_levels", "code", lambda row: {
            "rank": row["rank"], "label": row["label"], "description": row.get("description", ""),
        })
        self.load_coded(Concern, "concerns", "code", lambda row: {
            "label": row["label"], "patient_label": row["patient_label"],
            "description": row.get("description", ""),
        })
        self.load_coded(Condition, "conditions", "code", lambda row: {
            "label": row["label"], "question": row["question"],
            "clinician_question": row.get("clinician_question", ""),
            "detail_prompt": row.get("detail_prompt", ""), "category": row["category"],
            "kind": row["kind"], "examples": "\n".join(row.get("examples") or []),
            "note": row.get("note", ""), "position": row["_position"],
            "unsure_allowed": bool(row.get("unsure_allowed")),
        })
        self.load_implications()
        self.load_dated_questions()
        self.load_coded(Requirement, "requirements", "code", lambda row: {
            "label": row["label"], "patient_label": row.get("patient_label", ""),
            "kind": row.get("kind", Requirement.Kind.INSTRUCTION),
            "clinician_explanation": row["clinician_explanation"],
            "patient_explanation": row["patient_explanation"],
            "safety_note": row.get("safety_note", ""),
        }, m2m=lambda row: {"safety_sources": self.lookups("sources", row.get("safety_sources"))})
        self.load_coded(ConflictPolicy, "conflict_policies", "code", lambda row: {
            "title": row["title"], "trigger": row["trigger"], "action": row["action"],
            "basis": row.get("basis", "app_policy"), "position": row["_position"],
        })
        self.load_coded(Disagreement, "disagreements", "code", lambda row: {
            "topic": row["topic"], "summary": row["summary"], "resolution": row["resolution"],
        }, m2m=lambda row: {"sources": self.lookups("sources", row.get("sources"))})
        self.load_step_contraindications()
        self.load_treatments()
        self.load_coverage_decisions()
        for translation in self.translations:
            self.load_translations(translation)
        self.load_consents()
        CatalogueChange.objects.bulk_create(self.history)
        return self.report

    def load_coded(self, model, section, key_field, values, m2m=None):
        m2m_names = list(m2m({}).keys()) if m2m else []
        existing = self.existing(model, [key_field], m2m_names)
        index = self.index.setdefault(section, {})
        for position, row in enumerate(self.data.get(section) or []):
            row = {**row, "_position": position}
            key = row[key_field]
            index[key] = self.upsert(model, existing, (key,), {key_field: key, **values(row)},
                                     m2m(row) if m2m else None)

    def load_implications(self):
        """Implications point at other conditions, so they are set once all conditions exist."""
        for row in self.data.get("conditions") or []:
            condition = self.lookup("conditions", row["code"])
            wanted = self.lookups("conditions", row.get("implies"))
            current = list(condition.implies.all())
            if sorted(c.code for c in current) == sorted(c.code for c in wanted):
                continue
            if condition.pk in self.created_pks[Condition]:
                condition.implies.set(wanted)
                continue
            if condition.customised_at and not self.reset:
                self.report.skipped["condition"] += 1
                self.report.skipped_records.append(f"condition {condition}")
                continue
            condition.implies.set(wanted)
            self.report.updated["condition"] += 1
            self.history.append(catalogue_change_entry(
                actor=None, instance=condition, action=CatalogueChange.Action.CHANGED,
                changes={"implies": [change_value(current), change_value(wanted)]},
            ))

    def load_dated_questions(self):
        self.load_coded(DatedQuestion, "dated_questions", "code", lambda row: {
            "label": row["label"], "question": row["question"],
            "ongoing_label": row.get("ongoing_label") or "",
            "ongoing_condition": (self.lookup("conditions", row["ongoing_condition"])
                                  if row.get("ongoing_condition") else None),
            "position": row["_position"],
        })
        windows = self.existing(ConditionWindow, ["condition"])
        for row in self.data.get("dated_questions") or []:
            question = self.lookup("dated_questions", row["code"])
            for window in row.get("windows") or []:
                condition = self.lookup("conditions", window["condition"])
                self.upsert(ConditionWindow, windows, (condition.pk,), {
                    "question": question, "condition": condition,
                    "length": window["length"], "unit": window["unit"],
                })

    def file_pairs(self):
        """(treatment, condition) pairs with a rule, and with a decision, in the file."""
        rules = {(row["code"], item["condition"]) for row in self.data.get("treatments") or []
                 for item in row.get("contraindications") or []}
        decisions = {(entry["treatment"], code)
                     for entry in (self.data.get("coverage_decisions") or {}).get("decisions")
                     or [] if entry.get("treatment") for code in entry.get("conditions") or []}
        return rules, decisions

    def superseded_records_removed(self):
        """Where the file now has a rule for a pair that an earlier load decided needed none
        (or the reverse), the earlier record goes, with an entry in the history. A record an
        admin edited stays (unless reset) and the file's new one is skipped and reported.
        Returns the pairs whose admin decision blocks the file's rule."""
        file_rules, file_decisions = self.file_pairs()
        blocked = set()
        for decision in (CoverageDecision.objects.filter(treatment__isnull=False)
                         .select_related("treatment", "condition")):
            pair = (decision.treatment.code, decision.condition.code)
            if pair not in file_rules:
                continue
            if decision.customised_at and not self.reset:
                blocked.add(pair)
            else:
                self.removed(decision)
        for rule in ContraindicationRule.objects.select_related("treatment", "condition"):
            pair = (rule.treatment.code, rule.condition.code)
            if pair in file_decisions and pair not in file_rules and (
                    not rule.customised_at or self.reset):
                self.removed(rule)
        return blocked

    def removed(self, record):
        self.history.append(catalogue_change_entry(
            actor=None, instance=record, action=CatalogueChange.Action.DELETED, changes={}))
        self.report.updated[record._meta.model_name] += 1
        record.delete()

    def load_step_contraindications(self):
        """What each step must not be given with; alternatives are steps too, so this runs
        once every step exists."""
        existing = self.existing(RequirementContraindication, ["requirement", "condition"],
                                 ["sources"])
        for row in self.data.get("requirements") or []:
            step = self.lookup("requirements", row["code"])
            for item in row.get("contraindications") or []:
                condition = self.lookup("conditions", item["condition"])
                alternative = item.get("alternative")
                self.upsert(RequirementContraindication, existing, (step.pk, condition.pk), {
                    "requirement": step, "condition": condition,
                    "alternative": self.lookup("requirements", alternative) if alternative
                    else None,
                    "rationale": item["rationale"],
                    "basis": self.lookup("evidence_bases", item["basis"]),
                    "confidence": item["confidence"],
                }, {"sources": self.lookups("sources", item.get("sources"))})

    def load_coverage_decisions(self):
        """Reviewed decisions that a condition needs no rule, for one treatment or a whole
        category. One entry may name several conditions; each becomes its own record. A
        decision never stands beside a rule for the same pair: in the file that is an error,
        and against a rule an admin added, the decision is skipped and reported."""
        section = self.data.get("coverage_decisions") or {}
        defaults = {"reviewed_by": section.get("reviewed_by", LOADER_REVIEWER),
                    "reviewed_on": section.get("reviewed_on")}
        ruled = set(ContraindicationRule.objects.values_list("treatment_id", "condition_id"))
        file_rules = {(row["code"], item["condition"]) for row in self.data.get("treatments") or []
                      for item in row.get("contraindications") or []}
        existing = self.existing(CoverageDecision, ["condition", "treatment", "category"],
                                 ["sources"])
        for entry in section.get("decisions") or []:
            if bool(entry.get("treatment")) == bool(entry.get("category")):
                raise CatalogueFileError(
                    f"coverage decision {entry.get('conditions')}: give a treatment or a "
                    "category, not both and not neither")
            treatment = (self.lookup("treatments", entry["treatment"])
                         if entry.get("treatment") else None)
            category = (self.lookup("categories", entry["category"])
                        if entry.get("category") else None)
            sources = self.lookups("sources", entry.get("sources"))
            target = treatment.code if treatment else f"category {category.code}"
            if not sources or not entry.get("reason") or not entry.get("basis") \
                    or not entry.get("confidence"):
                raise CatalogueFileError(
                    f"coverage decision for {target}: a reason, basis, confidence and at "
                    "least one source are needed")
            for code in entry.get("conditions") or []:
                condition = self.lookup("conditions", code)
                if treatment is not None and (treatment.code, code) in file_rules:
                    raise CatalogueFileError(
                        f"{treatment.code}: {code} has both a rule and a decision that no "
                        "rule is needed")
                if treatment is not None and (treatment.pk, condition.pk) in ruled:
                    self.report.skipped["coveragedecision"] += 1
                    self.report.skipped_records.append(
                        f"coveragedecision {code} for {treatment.code} (a rule exists)")
                    continue
                self.upsert(CoverageDecision, existing,
                            (condition.pk, treatment.pk if treatment else None,
                             category.pk if category else None), {
                    "condition": condition, "treatment": treatment, "category": category,
                    "reason": entry["reason"],
                    "basis": self.lookup("evidence_bases", entry["basis"]),
                    "confidence": entry["confidence"],
                    "reviewed_by": entry.get("reviewed_by") or defaults["reviewed_by"],
                    "reviewed_on": entry.get("reviewed_on") or defaults["reviewed_on"],
                }, {"sources": sources})

    def load_treatments(self):
        treatments = self.existing(Treatment, ["code"], [
            "mechanisms", "key_sources", "fitzpatrick_sources", "sessions_sources",
            "downtime_sources", "regulatory_sources", "disagreements",
            "minimum_interval_sources"])
        parts = {
            Indication: self.existing(Indication, ["treatment", "concern"], ["sources"]),
            ConcernExclusion: self.existing(ConcernExclusion, ["treatment", "concern"],
                                            ["sources"]),
            ContraindicationRule: self.existing(ContraindicationRule, ["treatment", "condition"],
                                                ["sources", "contraindicated_by",
                                                 "window_sources"]),
            PreTreatmentRequirement: self.existing(PreTreatmentRequirement,
                                                   ["treatment", "data_key"],
                                                   ["sources", "conditions", "concerns"]),
            AftercareStep: self.existing(AftercareStep, ["treatment", "data_key"], ["sources"]),
        }
        self.decided = self.superseded_records_removed()
        index = self.index.setdefault("treatments", {})
        for row in self.data.get("treatments") or []:
            treatment = self.upsert(Treatment, treatments, (row["code"],),
                                    self.treatment_values(row), self.treatment_m2m(row))
            index[treatment.code] = treatment
            self.load_treatment_parts(treatment, row, parts)

    def load_translations(self, translation):
        """Upsert one language's translations of patient-facing text, matched by codes (and,
        for a treatment's steps, by their place in the catalogue file)."""
        language = translation["language"]
        existing = self.existing(TextTranslation, ["content_type", "object_id", "field",
                                                   "language"])
        types = ContentType.objects.get_for_models(
            Concern, Condition, Requirement, DatedQuestion, Treatment, PreTreatmentRequirement,
            AftercareStep)

        def put(record, field, text):
            if not text:
                return
            content_type = types[type(record)]
            self.upsert(TextTranslation, existing,
                        (content_type.pk, record.pk, field, language),
                        {"content_type": content_type, "object_id": record.pk, "field": field,
                         "language": language, "text": text})

        for section in ("concerns", "conditions", "requirements", "dated_questions"):
            for code, fields in (translation.get(section) or {}).items():
                record = self.lookup(section, code)
                for name, text in fields.items():
                    put(record, name, text)
        treatment_rows = {row["code"]: row for row in self.data.get("treatments") or []}
        treatments = Treatment.objects.in_bulk(list(translation.get("treatments") or {}),
                                               field_name="code")
        steps = {(s.treatment_id, s.data_key): s for s in PreTreatmentRequirement.objects.all()}
        aftercare = {(s.treatment_id, s.data_key): s for s in AftercareStep.objects.all()}
        for code, fields in (translation.get("treatments") or {}).items():
            treatment = treatments.get(code)
            if treatment is None:
                raise CatalogueFileError(f"translation for unknown treatment {code!r}")
            put(treatment, "name", fields.get("name"))
            put(treatment, "patient_description", fields.get("patient_description"))
            items = treatment_rows[code].get("requirements") or []
            for field, key in (("timing", "timings"), ("patient_timing", "patient_timings")):
                for item, text in zip(items, fields.get(key) or []):
                    step = steps.get((treatment.pk, requirement_data_key(item)))
                    if step is not None:
                        put(step, field, text)
            for position, text in enumerate(fields.get("aftercare") or []):
                step = aftercare.get((treatment.pk, f"aftercare-{position}"))
                if step is not None:
                    put(step, "patient_text", text)

    def load_consents(self):
        """Each treatment's consent text, with its translations. The version is the file's
        for a new text; after that it moves by itself whenever the words change."""
        existing = self.existing(TreatmentConsent, ["treatment"], ["sources"])
        treatments = Treatment.objects.in_bulk(field_name="code")
        translations = self.existing(TextTranslation, ["content_type", "object_id", "field",
                                                       "language"])
        content_type = ContentType.objects.get_for_model(TreatmentConsent)
        for row in self.consents:
            treatment = treatments.get(row["treatment"])
            if treatment is None:
                raise CatalogueFileError(f"consent for unknown treatment {row['treatment']!r}")
            english = row.get("en") or {}
            missing = [part for part in CONSENT_PARTS if not english.get(part)]
            if missing:
                raise CatalogueFileError(
                    f"consent for {treatment.code}: {', '.join(missing)} missing")
            values = {"treatment": treatment, **{part: english[part] for part in CONSENT_PARTS}}
            if (treatment.pk,) not in existing:
                values["version"] = row.get("version") or 1
            consent = self.upsert(TreatmentConsent, existing, (treatment.pk,), values,
                                  {"sources": self.lookups("sources", row.get("sources"))})
            for language, parts in row.items():
                if language in ("treatment", "version", "sources", "en"):
                    continue
                for part in CONSENT_PARTS:
                    if parts.get(part):
                        self.upsert(TextTranslation, translations,
                                    (content_type.pk, consent.pk, part, language),
                                    {"content_type": content_type, "object_id": consent.pk,
                                     "field": part, "language": language,
                                     "text": parts[part]})

    def treatment_values(self, row):
        phototypes = row["fitzpatrick"]
        unsourced = phototypes["suitable"] == "unsourced" or phototypes["caution"] == "unsourced"
        pih = phototypes["pih_risk"]
        return {
            "code": row["code"],
            "name": row["name"],
            "aliases": "\n".join(row.get("aliases") or []),
            "category": self.lookup("categories", row["category"]),
            "depth": self.lookup("depth_levels", row["depth"]),
            "depth_note": row.get("depth_note", ""),
            "clinician_description": row["clinician_description"],
            "patient_description": row["patient_description"],
            "referral": bool(row.get("referral")),
            "fitzpatrick_suitable": _phototype_list(phototypes["suitable"]),
            "fitzpatrick_caution": _phototype_list(phototypes["caution"]),
            "fitzpatrick_excluded": _phototype_list(phototypes["excluded"]),
            "fitzpatrick_unsourced": unsourced,
            "pih_risk": dict(pih) if isinstance(pih, dict) else {t: pih for t in PHOTOTYPES},
            "fitzpatrick_note": phototypes.get("note", ""),
            "sessions_typical": row["sessions"].get("typical", ""),
            "sessions_interval": row["sessions"].get("interval", ""),
            "downtime_min_days": row["downtime"].get("min_days"),
            "downtime_max_days": row["downtime"].get("max_days"),
            "downtime_note": row["downtime"].get("note", ""),
            "unsourced_notes": "\n".join(row.get("unsourced") or []),
            "regulatory_note": row.get("regulatory_note", ""),
            **self.minimum_interval_values(row),
        }

    def minimum_interval_values(self, row):
        interval = row.get("minimum_interval")
        if not interval:
            return {"minimum_interval_length": None, "minimum_interval_unit": "",
                    "minimum_interval_note": ""}
        if not interval.get("sources"):
            raise CatalogueFileError(
                f"{row['code']}: a minimum interval needs at least one source")
        return {"minimum_interval_length": interval.get("length"),
                "minimum_interval_unit": interval.get("unit") or "",
                "minimum_interval_note": interval.get("note") or ""}

    def rule_window(self, treatment, item):
        """A rule's own window from the file: its length, unit and sources, or none."""
        window = item.get("window")
        if not window:
            return {"window_length": None, "window_unit": ""}, []
        if not window.get("sources"):
            raise CatalogueFileError(
                f"{treatment.code} {item['condition']}: a rule's own window needs at least "
                "one source")
        return ({"window_length": window.get("length"), "window_unit": window.get("unit") or ""},
                self.lookups("sources", window["sources"]))

    def treatment_m2m(self, row):
        return {
            "mechanisms": self.lookups("mechanisms", row["mechanisms"]),
            "key_sources": self.lookups("sources", row.get("key_sources")),
            "fitzpatrick_sources": self.lookups("sources", row["fitzpatrick"].get("sources")),
            "sessions_sources": self.lookups("sources", row["sessions"].get("sources")),
            "downtime_sources": self.lookups("sources", row["downtime"].get("sources")),
            "regulatory_sources": self.lookups("sources", row.get("regulatory_sources")),
            "disagreements": self.lookups("disagreements", row.get("disagreements")),
            "minimum_interval_sources": self.lookups(
                "sources", (row.get("minimum_interval") or {}).get("sources")),
        }

    def load_treatment_parts(self, treatment, row, parts):
        for item in row.get("indications") or []:
            concern = self.lookup("concerns", item["concern"])
            self.upsert(Indication, parts[Indication], (treatment.pk, concern.pk), {
                "treatment": treatment, "concern": concern, "strength": item["strength"],
                "caution": bool(item.get("caution")), "note": item.get("note", ""),
            }, {"sources": self.lookups("sources", item.get("sources"))})
        for item in row.get("not_indicated") or []:
            concern = self.lookup("concerns", item["concern"])
            self.upsert(ConcernExclusion, parts[ConcernExclusion], (treatment.pk, concern.pk), {
                "treatment": treatment, "concern": concern, "reason": item["reason"],
            }, {"sources": self.lookups("sources", item.get("sources"))})
        for item in row.get("contraindications") or []:
            condition = self.lookup("conditions", item["condition"])
            basis = item.get("basis")
            disagreement = item.get("disagreement")
            if (treatment.pk, condition.pk) not in parts[ContraindicationRule] and (
                    treatment.code, condition.code) in self.decided:
                self.report.skipped["contraindicationrule"] += 1
                self.report.skipped_records.append(
                    f"contraindicationrule {treatment.code} {condition.code} (an admin "
                    "decided no rule is needed; review that decision)")
                continue
            sources = item.get("sources") or []
            stricter = item.get("contraindicated_by") or []
            if set(stricter) - set(sources):
                raise CatalogueFileError(
                    f"{treatment.code} {condition.code}: contraindicated_by names a source "
                    "the rule does not cite")
            window, window_sources = self.rule_window(treatment, item)
            self.upsert(ContraindicationRule, parts[ContraindicationRule],
                        (treatment.pk, condition.pk), {
                **window,
                "treatment": treatment, "condition": condition, "severity": item["severity"],
                "rationale": item["rationale"], "scope": item.get("scope", ""),
                "basis": self.lookup("evidence_bases", basis) if basis else None,
                "confidence": item.get("confidence", ""),
                "disagreement": (self.lookup("disagreements", disagreement)
                                 if disagreement else None),
            }, {"sources": self.lookups("sources", sources),
                "contraindicated_by": self.lookups("sources", stricter),
                "window_sources": window_sources})
        for item in row.get("requirements") or []:
            target = parse_applies_if(item["applies_if"])
            concern_codes = [c for c in target["conditions"] if c in self.index["concerns"]]
            condition_codes = [c for c in target["conditions"] if c not in concern_codes]
            data_key = requirement_data_key(item)
            self.upsert(PreTreatmentRequirement, parts[PreTreatmentRequirement],
                        (treatment.pk, data_key), {
                "treatment": treatment, "data_key": data_key,
                "requirement": self.lookup("requirements", item["requirement"]),
                "applies_to_all": target["applies_to_all"],
                "phototype_from": target["phototype_from"], "phototype_to": target["phototype_to"],
                "treatment_areas": target["treatment_areas"], "strength": item["strength"],
                "timing": item.get("timing", ""),
                "patient_timing": item.get("patient_timing", ""), "note": item.get("note", ""),
            }, {
                "sources": self.lookups("sources", item.get("sources")),
                "conditions": self.lookups("conditions", condition_codes),
                "concerns": self.lookups("concerns", concern_codes),
            })
        for position, item in enumerate(row.get("aftercare") or []):
            data_key = f"aftercare-{position}"
            try:
                days = parse_days(item["days"])
            except ValueError:
                raise CatalogueFileError(
                    f"{treatment.code}: aftercare day range {item['days']!r} is not understood"
                ) from None
            self.upsert(AftercareStep, parts[AftercareStep], (treatment.pk, data_key), {
                "treatment": treatment, "data_key": data_key, "position": position,
                **days, "clinician_text": item["clinician_text"],
                "patient_text": item["patient_text"],
            }, {"sources": self.lookups("sources", item.get("sources"))})


def _phototype_list(value):
    return [] if value == "unsourced" else list(value or [])


@transaction.atomic
def catalogue_load(*, data=None, translations=None, consents=None, reset=False):
    """Load the shipped catalogue (or `data` in the same shape, with its translations and
    consent texts) and report what changed."""
    if data is None:
        data, translations, consents = (catalogue_file_read(), translation_files_read(),
                                        consent_file_read())
    loader = CatalogueLoader(data, translations=translations or (), consents=consents or (),
                             reset=reset)
    return loader.load()
