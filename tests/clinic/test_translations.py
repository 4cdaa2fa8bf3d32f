"""The Chinese interface: every string the code and templates mark for translation has a
translation, and the compiled catalogue matches it."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
SOURCES = ["clinic", "consultations", "treatments", "templates", "locale", "manage.py"]
CATALOGUE = Path("locale/zh_Hans/LC_MESSAGES/django.po")


@pytest.fixture(scope="module")
def gettext():
    if not shutil.which("xgettext") or not shutil.which("msgfmt"):
        message = "GNU gettext is not installed (Debian: apt-get install gettext)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def statistics(po_file):
    """msgfmt's counts of translated, fuzzy and untranslated messages."""
    output = subprocess.run(["msgfmt", "--statistics", "-o", os.devnull, str(po_file)],
                            capture_output=True, text=True, check=True).stderr
    counts = {kind: int(n) for n, kind in re.findall(r"(\d+) (translated|fuzzy|untranslated)",
                                                      output)}
    return {kind: counts.get(kind, 0) for kind in ("translated", "fuzzy", "untranslated")}


def test_every_interface_string_has_a_chinese_translation(gettext, tmp_path):
    for name in SOURCES:
        source = PROJECT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, tmp_path / name)
    env = {**os.environ, "DJANGO_SECRET_KEY": "translation-check", "DJANGO_ENV_FILE": os.devnull,
           "DATABASE_URL": "sqlite:///:memory:"}

    subprocess.run([sys.executable, "manage.py", "makemessages", "--locale", "zh_Hans",
                    "--no-obsolete", "--verbosity", "0"], cwd=tmp_path, env=env, check=True)

    counts = statistics(tmp_path / CATALOGUE)
    assert counts["fuzzy"] == counts["untranslated"] == 0, counts
    assert counts["translated"] == statistics(PROJECT / CATALOGUE)["translated"]


def test_the_compiled_catalogue_is_up_to_date(gettext, tmp_path):
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "-o", str(compiled), str(PROJECT / CATALOGUE)], check=True)

    assert compiled.read_bytes() == (PROJECT / CATALOGUE).with_suffix(".mo").read_bytes()
