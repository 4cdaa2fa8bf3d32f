"""Who may see what: sign-in for everything but the sign-in page and the health check, the
catalogue for staff with a role, the admin for catalogue admins only."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.db import OperationalError
from django.urls import reverse

from clinic.roles import CATALOGUE_ADMIN, CLINICIAN, ROLE_PERMISSIONS
from tests.factories import PASSWORD
from treatments.models import Treatment

pytestmark = pytest.mark.django_db

PROTECTED_PAGES = [
    "/",
    "/catalogue/",
    "/catalogue/CO2_FRAC/",
    "/admin/",
    "/admin/treatments/treatment/",
]


class TestAnonymous:
    @pytest.mark.parametrize("path", PROTECTED_PAGES)
    def test_is_sent_to_sign_in(self, client, path):
        response = client.get(path, follow=True)

        final_url, status = response.redirect_chain[-1]
        assert status == 302
        assert final_url.startswith(reverse("clinic:sign-in"))
        assert response.status_code == 200

    def test_may_open_the_sign_in_page(self, client):
        response = client.get(reverse("clinic:sign-in"))

        assert response.status_code == 200
        assert b'autocomplete="current-password"' in response.content

    def test_may_ask_for_the_health_check(self, client):
        response = client.get("/healthz")

        assert response.status_code == 200
        assert response.json() == {"status": "ok", "database": "up"}


def test_health_check_answers_503_when_the_database_does_not(client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("clinic.views.connection.cursor", broken_cursor)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["database"] == "down"


class TestSignIn:
    def test_a_clinician_signs_in_and_lands_on_the_dashboard(self, client, clinician):
        response = client.post(reverse("clinic:sign-in"),
                               {"username": clinician.username, "password": PASSWORD},
                               follow=True)

        assert response.redirect_chain[-1][0] == reverse("clinic:home")
        assert response.wsgi_request.user == clinician
        assert "Today's consultations" in response.content.decode()

    def test_a_catalogue_admin_lands_on_the_catalogue(self, client, catalogue_admin):
        response = client.post(reverse("clinic:sign-in"),
                               {"username": catalogue_admin.username, "password": PASSWORD},
                               follow=True)

        assert response.redirect_chain[-1][0] == reverse("treatments:treatment-list")

    def test_wrong_password_keeps_the_username_and_says_why(self, client, clinician):
        response = client.post(reverse("clinic:sign-in"),
                               {"username": clinician.username, "password": "nope"})

        assert response.status_code == 200
        assert "do not match an account" in response.content.decode()
        assert f'value="{clinician.username}"' in response.content.decode()

    def test_sign_out_ends_the_session_on_the_server(self, client, clinician):
        client.force_login(clinician)
        session_key = client.session.session_key

        response = client.post(reverse("clinic:sign-out"))

        assert response.status_code == 302
        from django.contrib.sessions.models import Session
        assert not Session.objects.filter(session_key=session_key).exists()
        assert client.get("/catalogue/").status_code == 302

    def test_sign_out_refuses_get(self, client_as, clinician):
        assert client_as(clinician).get(reverse("clinic:sign-out")).status_code == 405


class TestTopBar:
    def test_shows_the_clinic_the_person_and_the_role(self, client_as, clinician):
        page = client_as(clinician).get("/catalogue/").content.decode()

        assert "Harbourside Skin Clinic" in page
        assert "Mei Lin" in page
        assert "Clinician" in page
        assert reverse("admin:index") not in page

    def test_offers_the_admin_to_catalogue_admins(self, client_as, catalogue_admin):
        page = client_as(catalogue_admin).get("/catalogue/").content.decode()

        assert "Catalogue admin" in page
        assert reverse("admin:index") in page


class TestAdminAccess:
    def test_clinician_cannot_reach_the_admin(self, client_as, clinician):
        client = client_as(clinician)

        assert client.get("/admin/").status_code == 403
        assert client.get("/admin/treatments/treatment/").status_code == 403

    def test_clinician_given_staff_status_still_cannot_reach_it(self, client_as, clinician):
        clinician.is_staff = True
        clinician.save()

        assert client_as(clinician).get("/admin/").status_code == 403

    def test_catalogue_admin_can(self, client_as, catalogue_admin):
        response = client_as(catalogue_admin).get("/admin/treatments/treatment/")

        assert response.status_code == 200
        assert "Fractional CO2" in response.content.decode()

    def test_catalogue_admin_cannot_manage_staff_accounts(self, client_as, catalogue_admin):
        assert client_as(catalogue_admin).get("/admin/auth/user/").status_code == 403


class TestStaffWithoutRole:
    def test_is_refused_the_catalogue(self, client_as, staff_without_role):
        client = client_as(staff_without_role)

        assert client.get("/catalogue/").status_code == 403
        assert client.get("/catalogue/CO2_FRAC/").status_code == 403


class TestRoles:
    def test_each_role_has_exactly_its_declared_permissions(self):
        for role, names in ROLE_PERMISSIONS.items():
            group = Group.objects.get(name=role)
            granted = {f"{p.content_type.app_label}.{p.codename}"
                       for p in group.permissions.select_related("content_type")}
            assert granted == set(names)

    def test_clinicians_only_read_the_catalogue(self, clinician):
        assert clinician.has_perm("treatments.view_contraindicationrule")
        assert not clinician.has_perm("treatments.change_contraindicationrule")
        assert not clinician.has_perm("treatments.add_treatment")

    def test_catalogue_admins_keep_it(self, catalogue_admin):
        assert catalogue_admin.has_perm("treatments.change_contraindicationrule")
        assert catalogue_admin.has_perm("treatments.view_cataloguechange")
        assert not catalogue_admin.has_perm("treatments.change_cataloguechange")
        assert CLINICIAN != CATALOGUE_ADMIN


class TestSettings:
    def run_settings(self, **env):
        project = Path(__file__).resolve().parents[2]
        clean_env = {k: v for k, v in os.environ.items()
                     if not k.startswith("DJANGO_")}
        return subprocess.run(
            [sys.executable, "-c", "import clinic.settings"],
            cwd=project, env={**clean_env, "DJANGO_ENV_FILE": "/nonexistent", **env},
            capture_output=True, text=True,
        )

    def test_start_up_stops_without_a_secret_key_when_debug_is_off(self):
        result = self.run_settings(DJANGO_DEBUG="0")

        assert result.returncode != 0
        assert "DJANGO_SECRET_KEY is not set" in result.stderr

    def test_a_secret_key_is_enough_to_start(self):
        assert self.run_settings(DJANGO_DEBUG="0", DJANGO_SECRET_KEY="k" * 50).returncode == 0


class TestSuperuser:
    def test_manages_clinics_and_staff_in_the_admin(self, client_as, superuser, clinician):
        client = client_as(superuser)

        assert client.get("/admin/clinic/clinic/").status_code == 200
        staff_page = client.get(f"/admin/auth/user/{clinician.pk}/change/")
        assert staff_page.status_code == 200
        assert "Harbourside Skin Clinic" in staff_page.content.decode()

    def test_may_read_a_treatments_change_history(self, client_as, superuser):
        co2 = Treatment.objects.get(code="CO2_FRAC")
        response = client_as(superuser).get(f"/admin/treatments/treatment/{co2.pk}/history/")

        assert response.status_code == 200
        assert "catalogue loader" in response.content.decode()


def test_a_database_outage_gives_a_clear_page_not_a_trace(client_as, clinician, monkeypatch):
    from django.db import OperationalError as DbDown

    def down(*args, **kwargs):
        raise DbDown("server closed the connection unexpectedly")

    client = client_as(clinician)
    monkeypatch.setattr("consultations.selectors.patient_list", down)

    response = client.get(reverse("consultations:patient-list"))

    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert "not saved" in response.content.decode()
    assert "Traceback" not in response.content.decode()


def test_when_the_database_fails_outside_a_view_the_page_says_so(rf):
    from django.db import OperationalError as DbDown

    from clinic.errors import server_error

    try:
        raise DbDown("the database system is starting up")
    except DbDown:
        response = server_error(rf.get("/"))

    assert response.status_code == 503
    assert "not saved" in response.content.decode()


def test_other_server_errors_get_the_plain_error_page(rf):
    from clinic.errors import server_error

    try:
        raise RuntimeError("boom")
    except RuntimeError:
        response = server_error(rf.get("/"))

    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()
    assert "boom" not in response.content.decode()
