"""Rule windows, minimum intervals and product categories in the shipped catalogue: every
figure has sources with addresses, the loader brings them in idempotently, a bad one is
refused with nothing written, and the admin refuses a window or interval without a source."""

import copy

import pytest
from django.urls import reverse

from tests.treatments.test_admin import errors_of, post_change
from tests.treatments.test_loader import catalogue_wipe
from treatments.loading import CatalogueFileError, catalogue_file_read, catalogue_load
from treatments.models import ContraindicationRule, EvidenceSource, Treatment, TreatmentCategory
from treatments.snapshot import catalogue_snapshot_build


@pytest.fixture(scope="module")
def data():
    return catalogue_file_read()


def rule_row(data, code, condition):
    treatment = next(t for t in data["treatments"] if t["code"] == code)
    return next(r for r in treatment["contraindications"] if r["condition"] == condition)


def treatment_row(data, code):
    return next(t for t in data["treatments"] if t["code"] == code)


class TestTheShippedFile:
    def test_every_rule_window_and_minimum_interval_has_sources_with_addresses(self, data):
        sources = {row["key"]: row for row in data["sources"]}
        windowed = {w["condition"] for q in data["dated_questions"] for w in q["windows"]}
        figures = [(t["code"], r["condition"], r["window"]) for t in data["treatments"]
                   for r in t["contraindications"] if r.get("window")]
        figures += [(t["code"], "minimum_interval", t["minimum_interval"])
                    for t in data["treatments"] if t.get("minimum_interval")]
        assert len(figures) >= 2
        for code, what, figure in figures:
            assert figure["length"] >= 1 and figure["unit"] in {"days", "weeks", "months"}
            assert figure["sources"], (code, what)
            for key in figure["sources"]:
                assert sources[key]["url"].startswith("http"), (code, what, key)
                assert sources[key]["type"] and sources[key]["title"]
            if what != "minimum_interval":
                assert what in windowed, (code, what)

    def test_the_medical_facial_waits_weeks_after_resurfacing_and_the_laser_months(self, data):
        assert rule_row(data, "MEDICAL_FACIAL", "recent_resurfacing")["window"]["unit"] == "days"
        assert "window" not in rule_row(data, "PIGMENT_LASER_SPOT", "recent_resurfacing")

    def test_products_are_marked_by_their_category(self, data):
        assert {c["code"] for c in data["categories"] if c.get("is_product")} == {
            "post_procedure_care", "topical_scar_product"}


@pytest.mark.django_db
class TestLoading:
    def test_windows_intervals_and_products_are_loaded_and_read_by_the_engine(self):
        facial = ContraindicationRule.objects.get(treatment__code="MEDICAL_FACIAL",
                                                  condition__code="recent_resurfacing")
        assert facial.window == (30, "days")
        assert set(facial.window_sources.values_list("key", flat=True)) >= {
            "S_HYDRAFACIAL_PROVIDER_CI"}
        botox = Treatment.objects.get(code="BOTOX")
        assert botox.minimum_interval == (3, "months")
        assert botox.minimum_interval_sources.filter(key="S_XEOMIN_ISI").exists()
        assert TreatmentCategory.objects.get(code="post_procedure_care").is_product
        assert not TreatmentCategory.objects.get(code="ablative_laser").is_product

        snapshot = catalogue_snapshot_build()
        facts = {t.code: t for t in snapshot.treatments}
        assert facts["MEDICAL_FACIAL"].rules["recent_resurfacing"].window == (30, "days")
        assert facts["BOTOX"].minimum_interval == (3, "months")
        assert facts["LED"].minimum_interval is None

    def test_a_second_load_changes_nothing(self):
        report = catalogue_load()

        assert not report.changed_anything

    def test_a_changed_window_updates_the_rule_and_an_admins_edit_is_kept(self, data):
        changed = copy.deepcopy(data)
        rule_row(changed, "HIFU", "recent_filler_in_area")["window"]["length"] = 6
        rule = ContraindicationRule.objects.get(treatment__code="MEDICAL_FACIAL",
                                                condition__code="recent_resurfacing")
        rule_row(changed, "MEDICAL_FACIAL", "recent_resurfacing")["window"]["length"] = 21
        ContraindicationRule.objects.filter(pk=rule.pk).update(customised_at="2027-01-01T00:00Z")

        report = catalogue_load(data=changed)

        assert ContraindicationRule.objects.get(
            treatment__code="HIFU", condition__code="recent_filler_in_area").window == (6, "weeks")
        rule.refresh_from_db()
        assert rule.window == (30, "days")
        assert report.updated["contraindicationrule"] == 1
        assert report.skipped["contraindicationrule"] == 1

    @pytest.mark.parametrize("window, message", [
        ({"length": 2, "unit": "weeks", "sources": []}, "needs at least one source"),
        ({"length": 2, "unit": "fortnights", "sources": ["S_INMODE_OPTIMAS_MANUAL"]},
         "fortnights"),
        ({"length": 2, "sources": ["S_INMODE_OPTIMAS_MANUAL"]}, "Give the unit"),
        ({"length": 0, "unit": "weeks", "sources": ["S_INMODE_OPTIMAS_MANUAL"]},
         "at least 1 long"),
        ({"length": 2, "unit": "weeks", "sources": ["S_NO_SUCH_SOURCE"]}, "S_NO_SUCH_SOURCE"),
    ])
    def test_a_bad_window_is_refused_with_nothing_written(self, data, window, message):
        broken = copy.deepcopy(data)
        rule_row(broken, "RF_MICRONEEDLING", "recent_resurfacing")["window"] = window
        catalogue_wipe()

        with pytest.raises(CatalogueFileError, match=message):
            catalogue_load(data=broken)

        assert Treatment.objects.count() == 0
        assert EvidenceSource.objects.count() == 0

    def test_a_window_on_a_condition_without_a_date_is_refused(self, data):
        broken = copy.deepcopy(data)
        rule_row(broken, "CO2_FRAC", "pregnancy")["window"] = {
            "length": 2, "unit": "weeks", "sources": ["S_RAMSDELL2012"]}
        catalogue_wipe()

        with pytest.raises(CatalogueFileError, match="does not follow from a date"):
            catalogue_load(data=broken)

        assert ContraindicationRule.objects.count() == 0

    @pytest.mark.parametrize("interval, message", [
        ({"length": 3, "unit": "months", "sources": []}, "needs at least one source"),
        ({"unit": "months", "sources": ["S_XEOMIN_ISI"]}, "Give the length"),
    ])
    def test_a_bad_minimum_interval_is_refused_with_nothing_written(self, data, interval,
                                                                     message):
        broken = copy.deepcopy(data)
        treatment_row(broken, "LED")["minimum_interval"] = interval
        catalogue_wipe()

        with pytest.raises(CatalogueFileError, match=message):
            catalogue_load(data=broken)

        assert Treatment.objects.count() == 0


@pytest.mark.django_db
class TestAdmin:
    @pytest.fixture
    def admin_client(self, client_as, catalogue_admin):
        return client_as(catalogue_admin)

    def test_a_rule_window_without_a_source_is_refused(self, admin_client):
        rule = ContraindicationRule.objects.get(treatment__code="RF_MICRONEEDLING",
                                                condition__code="recent_resurfacing")

        response = post_change(admin_client, rule, window_length="2", window_unit="weeks",
                               window_sources=[])

        assert response.status_code == 200
        assert "at least one source" in errors_of(response)["window_sources"][0]
        rule.refresh_from_db()
        assert rule.window is None

    def test_a_rule_window_needs_its_unit(self, admin_client):
        rule = ContraindicationRule.objects.get(treatment__code="RF_MICRONEEDLING",
                                                condition__code="recent_resurfacing")
        source = EvidenceSource.objects.get(key="S_INMODE_OPTIMAS_MANUAL")

        response = post_change(admin_client, rule, window_length="2", window_unit="",
                               window_sources=[str(source.pk)])

        assert "Give the unit with the length" in errors_of(response)["window_unit"][0]

    def test_a_window_on_a_condition_without_a_date_is_refused(self, admin_client):
        rule = ContraindicationRule.objects.get(treatment__code="CO2_FRAC",
                                                condition__code="pregnancy")
        source = EvidenceSource.objects.get(key="S_RAMSDELL2012")

        response = post_change(admin_client, rule, window_length="2", window_unit="weeks",
                               window_sources=[str(source.pk)])

        assert "does not follow from a date" in errors_of(response)["window_length"][0]
        rule.refresh_from_db()
        assert rule.window is None

    def test_a_sourced_rule_window_is_saved(self, admin_client):
        rule = ContraindicationRule.objects.get(treatment__code="RF_MICRONEEDLING",
                                                condition__code="recent_resurfacing")
        source = EvidenceSource.objects.get(key="S_INMODE_OPTIMAS_MANUAL")

        response = post_change(admin_client, rule, window_length="3", window_unit="weeks",
                               window_sources=[str(source.pk)])

        assert response.status_code == 302
        rule.refresh_from_db()
        assert rule.window == (3, "weeks") and rule.customised_at is not None
        assert list(rule.window_sources.values_list("key", flat=True)) == [
            "S_INMODE_OPTIMAS_MANUAL"]

    def test_a_minimum_interval_without_a_source_is_refused(self, admin_client):
        led = Treatment.objects.get(code="LED")

        response = post_change(admin_client, led, minimum_interval_length="1",
                               minimum_interval_unit="weeks", minimum_interval_sources=[])

        assert response.status_code == 200
        assert "at least one source" in errors_of(response)["minimum_interval_sources"][0]
        led.refresh_from_db()
        assert led.minimum_interval is None


@pytest.mark.django_db
class TestPages:
    def test_the_coverage_grid_marks_a_rule_window_and_names_its_sources(self, client_as,
                                                                      catalogue_admin):
        page = client_as(catalogue_admin).get(reverse("admin:treatments_coverage_grid"),
                                              {"treatment_category": "clinical_facial"})

        text = page.content.decode()
        assert ("recent_resurfacing × MEDICAL_FACIAL: absolute, own window 30 days "
                "(S_HYDRAFACIAL_PROVIDER_CI") in text
        assert 'class="coverage-window-mark"' in text

    def test_the_catalogue_page_shows_the_window_and_the_minimum_interval(
            self, client_as, clinician, django_assert_max_num_queries):
        client = client_as(clinician)
        client.get(reverse("treatments:treatment-detail", args=["BOTOX"]))

        with django_assert_max_num_queries(30):
            page = client.get(reverse("treatments:treatment-detail", args=["BOTOX"]))

        text = page.content.decode()
        assert "Minimum interval before a repeat" in text and "3 months" in text
        assert "Its own time window" in text
        assert "hcp.botoxcosmetic.com" in text
