import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import override_settings

from clinic.roles import CATALOGUE_ADMIN, CLINICIAN
from tests.factories import ClinicFactory, UserFactory
from treatments.loading import catalogue_load


def pytest_collection_modifyitems(items):
    """Browser tests last: their live server empties the database when each one ends."""
    items.sort(key=lambda item: "/e2e/" in str(item.path))


@pytest.fixture(scope="session", autouse=True)
def collected_static(tmp_path_factory):
    """Pages render with the production static storage (hashed names), so the static files
    are collected once for the whole run."""
    root = tmp_path_factory.mktemp("staticfiles")
    with override_settings(STATIC_ROOT=root):
        call_command("collectstatic", interactive=False, verbosity=0)
        yield root


@pytest.fixture(scope="session", autouse=True)
def plain_http_test_server():
    """The test servers speak plain HTTP and sign staff in without a TOTP code (session-wide,
    so the browser tests' live server starts that way too); the tests of those protections
    turn them back on with the `settings` fixture."""
    with override_settings(SECURE_SSL_REDIRECT=False, REQUIRE_TWO_FACTOR=False):
        yield


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with no rendered page kept from another test (their database rows,
    ids included, are rolled back and may come again)."""
    cache.clear()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Every test starts from a database holding the shipped catalogue."""
    with django_db_blocker.unblock():
        catalogue_load()


@pytest.fixture
def clinic(db):
    return ClinicFactory(name="Harbourside Skin Clinic")


@pytest.fixture
def other_clinic(db):
    return ClinicFactory(name="Northgate Aesthetics")


@pytest.fixture
def clinician(clinic):
    return UserFactory(clinic=clinic, role=CLINICIAN, first_name="Mei", last_name="Lin")


@pytest.fixture
def catalogue_admin(clinic):
    return UserFactory(clinic=clinic, role=CATALOGUE_ADMIN, first_name="Sam",
                       last_name="Okafor")


@pytest.fixture
def staff_without_role(clinic):
    return UserFactory(clinic=clinic, role=None)


@pytest.fixture
def superuser(db):
    return UserFactory(clinic=None, role=None, is_superuser=True, is_staff=True)


@pytest.fixture
def client_as(client):
    """A test client signed in as the given user."""

    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture(autouse=True)
def task_queue_runs_inline(monkeypatch):
    """Queued tasks run at once in the test's own process (django-q2's sync mode), so an
    email queued after commit is sent as soon as the commit's callbacks run."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)
