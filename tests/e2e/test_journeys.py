"""The product as its users use it, in a real browser."""

import datetime
import os
import re

import pytest
from django.test import Client
from django.urls import reverse

from clinic.roles import CATALOGUE_ADMIN, CLINICIAN
from consultations.models import Consultation, SignedConsent
from tests.consultations.intake_data import complete_intake
from tests.factories import PASSWORD, ClinicFactory, PatientFactory, UserFactory
from treatments.models import Treatment

pytestmark = pytest.mark.django_db(transaction=True)


def sign_in(page, base, user):
    page.goto(f"{base}/sign-in/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit], main input[type=submit]")
    page.wait_for_url(re.compile(r".*/(catalogue/)?$"))


def test_a_clinician_plans_and_the_patient_reads_it(catalogue, live_server, new_page):
    clinic = ClinicFactory(name="Harbourside Skin Clinic")
    clinician = UserFactory(clinic=clinic, role=CLINICIAN, first_name="Mei", last_name="Lin")
    base = live_server.url
    page = new_page()
    sign_in(page, base, clinician)

    # Register the patient.
    page.click("text=Register a patient")
    page.fill("#id_full_name", "Lena Park")
    page.fill("#id_date_of_birth", "1992-03-14")
    page.fill("#id_email", "lena@example.com")
    page.select_option("#id_preferred_language", "zh-hans")
    page.click("main button[type=submit]")
    page.wait_for_selector("text=Patient details saved.")

    # The intake: breastfeeding, with acne scars.
    page.click("text=New consultation")
    page.select_option("#id_skin_type", "combination")
    page.select_option("#id_fitzpatrick", "III")
    page.select_option("#id_concern_acne_scars", "moderate")
    page.select_option("#id_treatment_area", "full_face")
    for radio in page.locator("input[type=radio][value=no]").all():
        radio.check()
    for radio in page.locator("input[type=radio][value=never]").all():
        radio.check()
    page.check("input[name=condition_lactation][value=yes]")
    page.check("#id_history_reviewed")
    page.click("button[name=submit]")
    page.wait_for_selector("text=Intake submitted.")

    # The recommendation: CO2 excluded because of breastfeeding; silicone gel suitable.
    page.click("main >> text=Recommendations")
    excluded = page.locator("#excluded-CO2_FRAC")
    assert "Breastfeeding" in excluded.inner_text()
    assert "Rules it out" in excluded.inner_text()
    suitable = page.locator("#treatment-SILICONE_GEL")
    assert suitable.is_visible()

    # A plan with one justified caution, then shared.
    page.click("text=Start a treatment plan")
    plan_id = re.search(r"/plans/(\d+)/", page.url).group(1)
    page.goto(f"{base}/plans/{plan_id}/procedures/add/?treatment=PEEL_AHA_HIGH")
    page.fill("#id_sessions", "3")
    page.fill("#id_interval_weeks", "4")
    page.fill("#id_justification", "Agreed with her midwife: a gentle peel course.")
    page.click("form.card button[type=submit]")
    page.wait_for_selector("text=Cautions accepted")
    page.goto(f"{base}/plans/{plan_id}/procedures/add/?treatment=SILICONE_GEL")
    page.click("form.card button[type=submit]")
    page.click("text=Share with the patient")
    link = page.locator("input[aria-label='Link to the plan']").input_value()
    assert re.fullmatch(rf"{re.escape(base)}/p/[A-Za-z0-9_\-]{{43}}/", link)

    # The patient opens it, confirms her date of birth, reads it in Chinese, then English.
    patient = new_page()
    patient.goto(link)
    assert "Lena" not in patient.content()
    patient.fill("#id_date_of_birth", "1992-03-14")
    patient.click("main button[type=submit]")
    patient.wait_for_selector("text=您的治疗方案")
    assert "Agreed with her midwife" not in patient.content()  # the clinician's reasoning
    patient.click("text=English")
    patient.wait_for_selector("text=Your treatment plan, Lena")
    with patient.expect_download() as download:
        patient.click("text=Download as PDF")
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"

    # She asks a question; the clinician answers it from the inbox; she reads the answer.
    patient.fill("textarea[name=message]", "Can I wear make-up the next day?")
    patient.click("text=Send my question")
    patient.wait_for_selector("text=Waiting for the clinic's answer.")
    page.goto(f"{base}/")
    inbox = page.locator("#inbox")
    assert "Can I wear make-up the next day?" in inbox.inner_text()
    assert page.locator("header .badge").inner_text() == "1"
    inbox.locator("textarea[name=answer]").fill("Yes, mineral make-up from day two.")
    inbox.locator("text=Send the answer").click()
    page.wait_for_selector("text=Answer sent")
    assert "Can I wear make-up" not in page.locator("#inbox").inner_text()
    patient.reload()
    assert "Yes, mineral make-up from day two." in patient.content()

    # She signs her consent to the peel with the mouse...
    consents = patient.locator("#consents")
    consents.locator("li", has_text="peel").locator("text=Read and sign").click()
    patient.wait_for_selector("text=Please read this carefully")
    patient.fill("#typed-name", "Lena Park")
    patient.locator("#signature-canvas").scroll_into_view_if_needed()
    box = patient.locator("#signature-canvas").bounding_box()
    patient.mouse.move(box["x"] + 20, box["y"] + 40)
    patient.mouse.down()
    for step in range(1, 12):
        patient.mouse.move(box["x"] + 20 + step * 15, box["y"] + 40 + (step % 3) * 12)
    patient.mouse.up()
    assert patient.locator("#signature").input_value().startswith("data:image/png;base64,")
    patient.check("#agreed")
    patient.click("text=Sign my consent")
    patient.wait_for_selector("text=your consent has been recorded")
    # ...and to the gel with the keyboard alone, with her typed name as her signature.
    patient.locator("#consents li", has_text="ilicone").locator("text=Read and sign").click()
    patient.wait_for_selector("text=Please read this carefully")
    patient.focus("#typed-name")
    patient.keyboard.type("Lena Park")
    patient.focus("#typed-only")
    patient.keyboard.press("Space")
    patient.focus("#agreed")
    patient.keyboard.press("Space")
    patient.keyboard.press("Enter")
    patient.wait_for_selector("text=your consent has been recorded")
    assert patient.locator("#consents").inner_text().count("signed on") == 2
    signed = SignedConsent.objects.order_by("id")
    assert [bool(c.signature) for c in signed] == [True, False]


def test_a_new_rule_changes_the_clinicians_recommendation(catalogue, live_server, new_page):
    clinic = ClinicFactory(name="Harbourside Skin Clinic")
    clinician = UserFactory(clinic=clinic, role=CLINICIAN)
    admin = UserFactory(clinic=clinic, role=CATALOGUE_ADMIN)
    patient = PatientFactory(clinic=clinic, date_of_birth=datetime.date(1980, 1, 1))
    staff = Client()
    staff.force_login(clinician)
    staff.post(reverse("consultations:consultation-create", args=[patient.pk]),
               complete_intake(condition_smoking="yes"))
    url = f"{live_server.url}/consultations/{Consultation.objects.get().pk}/recommendations/"
    gel = Treatment.objects.get(code="SILICONE_GEL")

    clinician_page = new_page()
    sign_in(clinician_page, live_server.url, clinician)
    clinician_page.goto(url)
    assert clinician_page.locator("#treatment-SILICONE_GEL").is_visible()
    assert clinician_page.locator("#excluded-SILICONE_GEL").count() == 0

    admin_page = new_page()
    sign_in(admin_page, live_server.url, admin)
    admin_page.goto(f"{live_server.url}/admin/treatments/contraindicationrule/add/")
    admin_page.select_option("#id_treatment", label=gel.name)
    admin_page.select_option("#id_condition", label="Smoking")
    admin_page.select_option("#id_severity", "absolute")
    admin_page.fill("#id_rationale", "Clinic policy: smoking delays healing under occlusion.")
    admin_page.select_option("#id_basis", index=1)
    admin_page.select_option("#id_confidence", "low")
    admin_page.click("input[name=_save]")
    admin_page.wait_for_selector("text=was added successfully")

    clinician_page.reload()
    excluded = clinician_page.locator("#excluded-SILICONE_GEL")
    assert "Smoking" in excluded.inner_text()
    assert "smoking delays healing" in excluded.inner_text()
    assert clinician_page.locator("#treatment-SILICONE_GEL").count() == 0


def test_the_coverage_grid_fits_a_laptop_screen_and_scrolls_inside(catalogue, live_server,
                                                                  new_page):
    """About 70 conditions by 27 treatments: the page never scrolls sideways at 1366 px;
    the grid scrolls inside its own box with the headers kept in view."""
    clinic = ClinicFactory(name="Harbourside Skin Clinic")
    admin = UserFactory(clinic=clinic, role=CATALOGUE_ADMIN)
    page = new_page(viewport={"width": 1366, "height": 768})
    sign_in(page, live_server.url, admin)

    page.goto(f"{live_server.url}{reverse('admin:treatments_coverage_grid')}")

    grid = page.locator(".coverage-scroll")
    assert page.locator(".coverage-grid tbody tr").count() >= 70
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    assert grid.evaluate("box => box.scrollWidth > box.clientWidth")
    grid.evaluate("box => { box.scrollTop = 600; box.scrollLeft = 400; }")
    box = grid.bounding_box()
    header = page.locator(".coverage-grid thead tr.treatments th").nth(15).bounding_box()
    condition = page.locator(".coverage-grid tbody th").nth(30).bounding_box()
    # Scrolled down and across, the treatment names and the condition names stay in view.
    assert box["y"] <= header["y"] <= box["y"] + 60
    assert box["x"] <= condition["x"] <= box["x"] + 5
    if os.environ.get("SCREENSHOTS"):
        grid.evaluate("box => { box.scrollTop = 0; box.scrollLeft = 0; }")
        page.screenshot(path=os.environ["SCREENSHOTS"] + "/coverage-grid.png")
