"""The catalogue's patient-facing text, in every language shipped: each pre-treatment step
tells the patient when to act, and nothing a patient reads speaks of evidence, sources or
catalogue codes, which belong on the clinician's pages."""

import re

import pytest

from treatments.loading import catalogue_file_read, translation_files_read

DATA = catalogue_file_read()
(CHINESE,) = translation_files_read()

TREATMENT_CODES = [row["code"] for row in DATA["treatments"]]
SOURCE_KEYS = [row["key"] for row in DATA["sources"]]

# Words of the evidence base: fine in a rationale, never in what a patient reads.
EVIDENCE_WORDS = ["sourced", "source", "consensus", "textbook", "trial", "provider",
                  "confidence", "basis"]
CHINESE_EVIDENCE_WORDS = ["来源", "文献", "资料", "依据", "共识", "教科书", "试验", "建议不一"]


def english_texts():
    for row in DATA["concerns"]:
        yield f"concern {row['code']}", row["patient_label"]
    for row in DATA["conditions"]:
        yield f"condition {row['code']}", row["question"]
    for row in DATA["requirements"]:
        yield f"requirement {row['code']}", row["patient_label"]
        yield f"requirement {row['code']} explanation", row["patient_explanation"]
    for treatment in DATA["treatments"]:
        code = treatment["code"]
        yield f"treatment {code}", treatment["patient_description"]
        for position, step in enumerate(treatment.get("aftercare") or []):
            yield f"{code} aftercare {position}", step["patient_text"]
        for position, step in enumerate(treatment.get("requirements") or []):
            yield f"{code} pre-treatment step {position}", step.get("patient_timing", "")


def chinese_texts():
    for section, field in [("concerns", "patient_label"), ("conditions", "question"),
                           ("requirements", "patient_label"),
                           ("requirements", "patient_explanation")]:
        for code, fields in CHINESE[section].items():
            yield f"{section} {code} {field}", fields[field]
    for code, fields in CHINESE["treatments"].items():
        yield f"treatment {code}", fields["patient_description"]
        for position, text in enumerate(fields.get("aftercare") or []):
            yield f"{code} aftercare {position}", text
        for position, text in enumerate(fields.get("patient_timings") or []):
            yield f"{code} pre-treatment step {position}", text


PATIENT_TEXTS = [("en", *pair) for pair in english_texts()] + [
    ("zh-hans", *pair) for pair in chinese_texts()]


def clinical_terms(text):
    """The evidence words, disagreement codes, source keys and treatment codes in a text."""
    found = [word for word in EVIDENCE_WORDS if word in text.lower()]
    found += [word for word in CHINESE_EVIDENCE_WORDS if word in text]
    # ASCII word boundaries, so that a code right after a Chinese character is still found.
    found += re.findall(r"\bD\d{2}\b|\bS_\w+", text, flags=re.ASCII)
    found += [code for code in TREATMENT_CODES + SOURCE_KEYS
              if re.search(rf"\b{re.escape(code)}\b", text, flags=re.ASCII)]
    return list(dict.fromkeys(found))


def test_every_step_attached_to_a_treatment_tells_the_patient_when_in_both_languages():
    missing = []
    for treatment in DATA["treatments"]:
        steps = treatment.get("requirements") or []
        chinese = CHINESE["treatments"][treatment["code"]].get("patient_timings") or []
        assert len(chinese) == len(steps), treatment["code"]
        for position, (step, text) in enumerate(zip(steps, chinese)):
            if not step.get("patient_timing", "").strip() or not text.strip():
                missing.append(f"{treatment['code']} {step['requirement']} ({position})")

    assert missing == []


def test_every_requirement_has_a_label_for_patients_in_both_languages():
    missing = [row["code"] for row in DATA["requirements"]
               if not row.get("patient_label", "").strip()
               or not CHINESE["requirements"][row["code"]].get("patient_label", "").strip()]

    assert missing == []


def test_no_requirement_gives_patients_its_clinical_label():
    same = [row["code"] for row in DATA["requirements"]
            if row["patient_label"] == row["label"]
            or CHINESE["requirements"][row["code"]]["patient_label"]
            == CHINESE["requirements"][row["code"]]["label"]]

    assert same == []


@pytest.mark.parametrize("language, where, text", PATIENT_TEXTS,
                         ids=[f"{language}: {where}" for language, where, _text in PATIENT_TEXTS])
def test_no_patient_text_speaks_of_evidence_or_codes(language, where, text):
    assert clinical_terms(text) == []


@pytest.mark.parametrize("text, expected", [
    ("Trials used valacyclovir for about 10-14 days.", ["trial"]),
    ("Sources range between 3 days and 2 weeks.", ["source"]),
    ("One provider advises stopping 2 months before.", ["provider"]),
    ("Obtain device-clinic clearance beforehand (see D09).", ["D09"]),
    ("须先获得许可（见D09）。", ["D09"]),
    ("有一本教科书建议1-2个月。", ["教科书"]),
    ("As S_RAMSDELL2012 found.", ["S_RAMSDELL2012"]),
    ("Unlike IPL, this laser is gentle.", ["IPL"]),
    ("Stop 2 weeks before your treatment.", []),
    ("Drink plenty of water while you take the tablets.", []),
])
def test_clinical_terms_are_recognised(text, expected):
    assert clinical_terms(text) == expected
