"""`python manage.py recommend`: the engine headless, as its contract describes."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from treatments.intake_input import (
    ECHO_CHARACTERS,
    MAX_INPUT_BYTES,
    MAX_INTAKES,
    MAX_NESTING,
    decoded_input,
)

pytestmark = pytest.mark.django_db

PREGNANT_WITH_SCARS = {"fitzpatrick": "III", "concerns": ["acne_scars"],
                       "conditions": ["pregnancy"]}


def run(tmp_path, payload, *args, raw=None):
    path = tmp_path / "intake.json"
    raw = raw if raw is not None else json.dumps(payload)
    path.write_bytes(raw if isinstance(raw, bytes) else raw.encode("utf-8"))
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        call_command("recommend", "--input", str(path), *args, stdout=out, stderr=err)
    except SystemExit as exit_:
        code = exit_.code
    return code, out.getvalue(), err.getvalue()


def test_one_intake_gives_one_result(tmp_path):
    code, out, err = run(tmp_path, PREGNANT_WITH_SCARS)

    result = json.loads(out)
    assert code == 0 and err == ""
    assert set(result) == {"conditions", "notes", "recommended", "no_suitable_option",
                           "treatments"}
    assert result["conditions"] == ["pregnancy"]
    co2 = result["treatments"]["CO2_FRAC"]
    assert co2["excluded"] is True
    assert co2["indicated"] is True
    assert {"concern": "acne_scars", "strength": "primary"} in co2["matched_concerns"]
    flag = next(f for f in co2["flags"] if f["code"] == "pregnancy")
    assert flag["severity"] == "absolute"
    assert flag["reason"] and flag["basis"] == "seed" and flag["sources"]
    assert "CO2_FRAC" not in result["recommended"]
    assert "SILICONE_GEL" in result["recommended"]
    assert len(result["treatments"]) == 27
    assert set(co2) == {"name", "indicated", "matched_concerns", "not_indicated_for",
                        "excluded", "flags", "requirements", "fitzpatrick", "pih_risk",
                        "referral", "score", "unreviewed", "suitable_from"}
    assert co2["unreviewed"] == []


def test_conditions_not_reviewed_for_a_treatment_are_listed_on_it(tmp_path):
    from treatments.models import CoverageDecision

    CoverageDecision.objects.filter(category__code="topical_scar_product",
                                    condition__code="epilepsy").delete()
    CoverageDecision.objects.filter(treatment__code="SILICONE_GEL",
                                    condition__code="epilepsy").delete()
    _, out, _ = run(tmp_path, {"fitzpatrick": "III", "concerns": ["scars_hypertrophic_keloid"],
                               "conditions": ["epilepsy", "pregnancy"]})

    gel = json.loads(out)["treatments"]["SILICONE_GEL"]
    assert gel["unreviewed"] == ["epilepsy"]


def test_an_array_gives_an_array_in_the_same_order(tmp_path):
    code, out, _ = run(tmp_path, [PREGNANT_WITH_SCARS,
                                  {"fitzpatrick": 6, "concerns": [
                                      {"code": "hyperpigmentation", "severity": "mild"}]}])

    results = json.loads(out)
    assert code == 0
    assert [r["conditions"] for r in results] == [["pregnancy"], []]
    assert results[1]["treatments"]["IPL"]["fitzpatrick"] == "excluded"
    assert {"code": "fitzpatrick", "severity": "absolute"}.items() <= \
        results[1]["treatments"]["IPL"]["flags"][0].items()


def test_policies_and_requirements_are_in_the_output(tmp_path):
    _, out, _ = run(tmp_path, {"fitzpatrick": "unknown", "concerns": ["acne_scars"],
                               "pregnancy_answer": "unsure",
                               "conditions": ["herpes_simplex_history"],
                               "treatment_area": "full_face"})

    result = json.loads(out)
    assert "pregnancy" in result["conditions"]
    assert any(note.startswith("pregnancy_unsure") for note in result["notes"])
    assert any(note.startswith("fitzpatrick_unknown") for note in result["notes"])
    steps = {s["code"]: s for s in result["treatments"]["CO2_FRAC"]["requirements"]}
    # Unsure about pregnancy reads as pregnant: the antiviral is proposed as the
    # prescriber's choice of drug and dose, in place of the standard course.
    antiviral = steps["antiviral_prophylaxis_prescriber_adjusted"]
    assert antiviral["strength"] == "required"
    assert antiviral["replaces"] == "antiviral_prophylaxis"
    assert [c["condition"] for c in antiviral["replaced_because"]] == ["pregnancy"]
    assert result["treatments"]["CO2_FRAC"]["pih_risk"] == "high"


def test_no_suitable_option_is_said(tmp_path):
    _, out, _ = run(tmp_path, {"fitzpatrick": "III", "concerns": ["volume_loss"],
                               "conditions": ["allergy_hyaluronic_acid"]})

    result = json.loads(out)
    assert result["recommended"] == []
    assert result["no_suitable_option"] is True


@pytest.mark.parametrize("payload, raw, field", [
    ({"fitzpatrick": "III", "concerns": ["wrinkly"]}, None, "concerns[0]"),
    ({"fitzpatrick": "III", "conditions": ["pregnant"]}, None, "conditions[0]"),
    ({"fitzpatrick": "VII"}, None, "fitzpatrick"),
    ({"fitzpatrick": 0}, None, "fitzpatrick"),
    ({"fitzpatrick": "III", "age": 30}, None, "intake"),
    ({"fitzpatrick": "III", "concerns": [{"code": "acne_scars", "severity": "huge"}]}, None,
     "concerns[0].severity"),
    ({"fitzpatrick": "III", "pregnancy_answer": "maybe"}, None, "pregnancy_answer"),
    ({"fitzpatrick": "III", "conditions": "pregnancy"}, None, "conditions"),
    ([{"fitzpatrick": "III"}, {"fitzpatrick": "III", "treatment_area": "arm"}], None,
     "[1].treatment_area"),
    (None, '{"fitzpatrick": "III",', "input"),
    (None, "", "input"),
])
def test_bad_input_exits_2_with_one_line_naming_the_field(tmp_path, payload, raw, field):
    code, out, err = run(tmp_path, payload, raw=raw)

    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"{field}:")


def test_reads_standard_input(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(
        json.dumps(PREGNANT_WITH_SCARS).encode())))
    out = io.StringIO()

    call_command("recommend", "--input", "-", stdout=out)

    assert json.loads(out.getvalue())["conditions"] == ["pregnancy"]


def test_text_format_is_a_readable_table(tmp_path):
    code, out, _ = run(tmp_path, PREGNANT_WITH_SCARS, "--format", "text")

    assert code == 0
    assert "CO2_FRAC" in out and "excluded" in out and "pregnancy (absolute)" in out
    assert "SILICONE_GEL" in out and "suitable" in out


def test_dated_answers_give_flags_that_know_when_they_lapse(tmp_path):
    _, out, _ = run(tmp_path, {"fitzpatrick": "III", "concerns": ["acne_scars"],
                               "dated_answers": {"isotretinoin_last_dose": "2026-09-01"},
                               "as_of": "2026-12-01"})

    result = json.loads(out)
    assert {"isotretinoin_6m", "isotretinoin_12m"} <= set(result["conditions"])
    rf = result["treatments"]["RF_MICRONEEDLING"]
    six_months = next(f for f in rf["flags"] if f["code"] == "isotretinoin_6m")
    assert (six_months["severity"], six_months["until"]) == ("absolute", "2027-03-02")
    assert rf["excluded"] and rf["suitable_from"] == max(
        f["until"] for f in rf["flags"] if f["severity"] == "absolute")
    assert result["treatments"]["SILICONE_GEL"]["suitable_from"] is None


def test_the_same_answer_given_as_a_code_has_no_end(tmp_path):
    _, out, _ = run(tmp_path, {"fitzpatrick": "III", "concerns": ["acne_scars"],
                               "conditions": ["isotretinoin_6m"]})

    flags = json.loads(out)["treatments"]["RF_MICRONEEDLING"]["flags"]
    assert next(f for f in flags if f["code"] == "isotretinoin_6m")["until"] is None


def test_as_of_moves_the_day_of_treatment(tmp_path):
    later = {"fitzpatrick": "III", "concerns": ["acne_scars"],
             "dated_answers": {"isotretinoin_last_dose": "2026-09-01"}, "as_of": "2027-09-02"}

    result = json.loads(run(tmp_path, later)[1])

    assert not {"isotretinoin_6m", "isotretinoin_12m"} & set(result["conditions"])


def test_ongoing_and_never_are_answers(tmp_path):
    _, out, _ = run(tmp_path, {"concerns": ["acne_scars"], "as_of": "2026-12-01",
                               "dated_answers": {"isotretinoin_last_dose": "ongoing",
                                                 "last_tan": "never"}})

    assert "isotretinoin_current" in json.loads(out)["conditions"]


def test_recommended_holds_refer_out_options_marked_as_such(tmp_path):
    _, out, _ = run(tmp_path, {"fitzpatrick": "III", "concerns": ["acne_scars"]})

    result = json.loads(out)
    referrals = [code for code in result["recommended"]
                 if result["treatments"][code]["referral"]]
    assert "SUBCISION" in referrals
    scores = [result["treatments"][code]["score"] for code in result["recommended"]]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("payload, field", [
    ({"dated_answers": {"isotretinoin_last_dose": "last spring"}},
     "dated_answers.isotretinoin_last_dose"),
    ({"dated_answers": {"no_such_question": "2026-01-01"}}, "dated_answers"),
    ({"dated_answers": {"last_tan": "ongoing"}}, "dated_answers.last_tan"),
    ({"dated_answers": ["isotretinoin_last_dose"]}, "dated_answers"),
    ({"as_of": "1 December"}, "as_of"),
    ({"as_of": "2026-12-01", "dated_answers": {"last_tan": "2026-12-02"}},
     "dated_answers.last_tan"),
])
def test_bad_dated_input_names_the_field(tmp_path, payload, field):
    code, out, err = run(tmp_path, {"concerns": ["acne_scars"], **payload})

    assert code == 2 and out == ""
    assert err.startswith(f"{field}:") and "\n" not in err.strip()


# -- Refusals: whatever arrives, one line naming the field, nothing else ----------------

def assert_refused(result, field):
    code, out, err = result
    assert code == 2
    assert out == ""
    assert err.endswith("\n") and err.count("\n") == 1
    assert err.startswith(f"{field}:")


def nested(levels):
    return "[" * levels + "]" * levels


def padded_to(size, payload):
    text = json.dumps(payload)
    return text + " " * (size - len(text))


@pytest.mark.parametrize("raw, field, problem", [
    ("", "input", "empty"),
    (" \n\t", "input", "empty"),
    (b"\xff\xfe{}", "input", "not UTF-8"),
    ("3", "input", "expected an intake object or an array of them"),
    ('"III"', "input", "expected an intake object or an array of them"),
    ("null", "input", "expected an intake object or an array of them"),
    ('[{"fitzpatrick": "III"}, 3]', "[1]", "expected an intake object"),
    ('[{"fitzpatrick": "III"}, ["III"]]', "[1]", "expected an intake object"),
    (nested(MAX_NESTING + 1), "input", f"nested more than {MAX_NESTING} deep"),
    (nested(100_000), "input", f"nested more than {MAX_NESTING} deep"),
    ('{"concerns": ' + nested(MAX_NESTING) + "}", "input", "nested"),
    ("[" + ", ".join(["{}"] * (MAX_INTAKES + 1)) + "]", "input",
     f"more than the {MAX_INTAKES:,}"),
    (padded_to(MAX_INPUT_BYTES + 1, {"fitzpatrick": "III"}), "input",
     f"more than the {MAX_INPUT_BYTES:,} bytes"),
])
def test_input_that_is_not_one_or_more_intakes_is_refused(tmp_path, raw, field, problem):
    result = run(tmp_path, None, raw=raw)

    assert_refused(result, field)
    assert problem in result[2]


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999", "-1e999",
                                    "9" * 5000, "-" + "1" * 21])
@pytest.mark.parametrize("template, field", [
    ('{"fitzpatrick": %s}', "fitzpatrick"),
    ('{"concerns": [{"code": "acne_scars", "severity": %s}]}', "concerns[0].severity"),
    ('{"conditions": [%s]}', "conditions[0]"),
    ('{"as_of": %s}', "as_of"),
    ('[{}, {"dated_answers": {"last_tan": %s}}]', "[1].dated_answers.last_tan"),
])
def test_a_number_no_field_can_mean_is_refused_by_its_field(tmp_path, number, template,
                                                             field):
    result = run(tmp_path, None, raw=template % number)

    assert_refused(result, field)
    assert len(result[2]) < 200


@pytest.mark.parametrize("day", ["1899-12-31", "2101-01-01", "0001-01-01", "9999-12-31"])
def test_a_day_no_clinic_can_mean_is_refused(tmp_path, day):
    assert_refused(run(tmp_path, {"as_of": day}), "as_of")
    assert_refused(run(tmp_path, {"as_of": "2026-12-01",
                                  "dated_answers": {"last_tan": day}}),
                   "dated_answers.last_tan")


@pytest.mark.parametrize("name", ["none.json", "a-folder"])
def test_a_path_that_cannot_be_read_is_refused(tmp_path, name):
    (tmp_path / "a-folder").mkdir()
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("recommend", "--input", str(tmp_path / name), stdout=out, stderr=err)

    assert_refused((exit_.value.code, out.getvalue(), err.getvalue()), "input")
    assert "cannot read" in err.getvalue()


LONG = "x" * 5000


@pytest.mark.parametrize("payload", [
    {"concerns": [LONG]},
    {"concerns": [{"code": LONG}]},
    {"concerns": [{"code": "acne_scars", LONG: 1}]},
    {"concerns": [{"code": "acne_scars", "severity": LONG}]},
    {"concerns": LONG},
    {"conditions": [LONG]},
    {"conditions": {LONG: LONG}},
    {LONG: 1},
    {"fitzpatrick": LONG},
    {"fitzpatrick": [LONG]},
    {"pregnancy_answer": LONG},
    {"treatment_area": LONG},
    {"skin_type": LONG},
    {"acne_scar_subtypes": [LONG]},
    {"as_of": LONG},
    {"dated_answers": LONG},
    {"dated_answers": {LONG: "2026-01-01"}},
    {"dated_answers": {"last_tan": LONG}},
    [{}, LONG],
    LONG,
])
def test_a_message_quotes_at_most_80_characters_of_the_value(tmp_path, payload):
    _, _, err = run(tmp_path, payload)

    assert ECHO_CHARACTERS == 80
    assert "x" * ECHO_CHARACTERS not in err
    assert "x" * 40 in err and "…" in err
    assert err.count("\n") == 1 and len(err) < 200


def test_a_long_path_is_quoted_cut_too(tmp_path):
    path = str(tmp_path / ("y" * 200))
    err = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("recommend", "--input", path, stdout=io.StringIO(), stderr=err)

    message = err.getvalue()
    assert message.startswith("input: cannot read ") and "…" in message
    assert len(message) < len(path)


# -- What is accepted: the limits themselves, and any accepted input prints ------------

def test_the_limits_themselves_are_accepted(tmp_path):
    assert decoded_input(nested(MAX_NESTING).encode()) == json.loads(nested(MAX_NESTING))
    assert decoded_input(("[" + ", ".join(["{}"] * MAX_INTAKES) + "]").encode()) == (
        [{}] * MAX_INTAKES)
    code, out, err = run(tmp_path, None,
                         raw=padded_to(MAX_INPUT_BYTES, {"fitzpatrick": "III"}))
    assert (code, err) == (0, "")
    assert json.loads(out)["treatments"]


@pytest.mark.parametrize("payload", [
    [],
    {},
    {"fitzpatrick": "unknown", "pregnancy_answer": "unsure", "skin_type": "sensitive"},
    {"fitzpatrick": 1, "concerns": ["acne_scars", {"code": "acne_scars", "severity": "severe"}],
     "acne_scar_subtypes": ["rolling", "rolling", "icepick"], "treatment_area": "perioral"},
    {"as_of": "1900-01-01", "dated_answers": {"isotretinoin_last_dose": "1900-01-01",
                                              "last_tan": "1900-01-01"}},
    {"as_of": "2100-12-31", "dated_answers": {"isotretinoin_last_dose": "2100-12-31",
                                              "last_filler_in_area": "2100-02-28"}},
])
@pytest.mark.parametrize("output", ["json", "text"])
def test_any_accepted_input_prints_in_either_format(tmp_path, payload, output):
    code, out, err = run(tmp_path, payload, "--format", output)

    assert (code, err) == (0, "")
    if output == "json":
        json.loads(out)


@pytest.mark.parametrize("output", ["json", "text"])
def test_every_condition_at_once_prints_in_either_format(tmp_path, output):
    from treatments.models import Condition

    code, out, err = run(tmp_path, {
        "fitzpatrick": "VI", "concerns": ["acne_scars", "melasma"],
        "conditions": list(Condition.objects.values_list("code", flat=True))},
        "--format", output)

    assert (code, err) == (0, "")
    assert "excluded" in out


# -- Start-up: a real process, with the project's logging ------------------------------

def manage(*args, stdin, database):
    project = Path(__file__).resolve().parents[2]
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    env.update(DJANGO_ENV_FILE="/nonexistent", DJANGO_SECRET_KEY="k" * 50,
               DATABASE_URL=f"sqlite:///{database}")
    return subprocess.run([sys.executable, "manage.py", *args], cwd=project, env=env,
                          input=stdin, capture_output=True, timeout=120)


def test_start_up_writes_nothing_on_standard_error(tmp_path):
    database = tmp_path / "start-up.sqlite3"
    migrated = manage("migrate", "--verbosity", "0", stdin=b"", database=database)
    assert (migrated.returncode, migrated.stderr) == (0, b"")

    good = manage("recommend", "--input", "-", stdin=b'{"fitzpatrick": "III"}',
                  database=database)
    assert (good.returncode, good.stderr) == (0, b"")
    assert json.loads(good.stdout)["recommended"] == []

    bad = manage("recommend", "--input", "-", stdin=b"{", database=database)
    assert bad.returncode == 2 and bad.stdout == b""
    assert bad.stderr.decode().startswith("input: not valid JSON")
    assert bad.stderr.count(b"\n") == 1
