"""Browser tests: Playwright driving Debian's Chromium against a live test server.

They run last (see tests/conftest.py): the live server needs a real transaction, and the
database is emptied after each browser test, so each one reloads the catalogue it needs.
In CI (CI=true) a missing Chromium fails the run; elsewhere those tests are skipped with
the reason.
"""

import os
import shutil
from pathlib import Path

import pytest

from clinic.roles import roles_sync
from treatments.loading import catalogue_load
from treatments.models import Treatment

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


def chromium_path():
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which(
        "chromium-browser")


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    if not path:
        message = "Chromium is not installed (Debian: apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    # Playwright's synchronous API keeps an event loop in this thread; the tests' own ORM
    # calls are still synchronous, which Django must be told is fine here.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def served_static_files(settings):
    """The live server serves static files from the apps' folders, by their plain names
    (the hashed names of the production storage exist only once collected), so pages are
    tested with their stylesheets."""
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}


@pytest.fixture
def catalogue(transactional_db):
    """The live server's database is emptied between browser tests: load what they need."""
    if not Treatment.objects.exists():
        roles_sync()
        catalogue_load()


@pytest.fixture
def new_page(browser, request):
    """Pages opened by a test; on failure each one's screenshot is kept in test-artifacts/."""
    contexts = []

    def open_page(**options):
        context = browser.new_context(accept_downloads=True, **options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15000)
        return page

    yield open_page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        for index, context in enumerate(contexts):
            for number, page in enumerate(context.pages):
                page.screenshot(path=ARTIFACTS / f"{request.node.name}-{index}-{number}.png",
                                full_page=True)
    for context in contexts:
        context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.report_call = report
    return report
