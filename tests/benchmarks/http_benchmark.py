"""Throughput and latency of the main pages under load (`make bench`).

gunicorn with 2 workers on PostgreSQL serves a generated clinic (1,000 patients, 3,000
consultations, the shipped catalogue); wrk, from Debian's packages, loads each page from
127.0.0.1 for a fixed time, after a short warm-up. The table gives requests per second, p50
and p99 latency, errors, and each page's throughput as a share of the floor (the bare
/healthz endpoint).
Targets: recommendation and plan pages at >= 0.25 of the floor, p99 < 250 ms at 16
connections, no errors. It uses its own database (clinic_bench) and never touches yours.
"""

import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
PORT = int(os.environ.get("BENCH_PORT", "8765"))
BASE = f"http://127.0.0.1:{PORT}"
SERVER_URL = os.environ.get("BENCH_DATABASE_URL",
                            "postgres://postgres@127.0.0.1:5432/clinic_bench")
# gunicorn runs as the app's own role, as in production: it owns no table (docs/deploy.md);
# BENCH_DATABASE_URL's role owns them and migrates.
_SERVER = urllib.parse.urlsplit(SERVER_URL)
APP_ROLE_URL = _SERVER._replace(netloc=f"clinic_bench_app:clinic-bench-app@{_SERVER.hostname}:"
                                       f"{_SERVER.port or 5432}").geturl()
DURATION = os.environ.get("BENCH_DURATION", "10s")
WARM_UP = os.environ.get("BENCH_WARM_UP", "2s")
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
ARTIFACTS = PROJECT / "test-artifacts"

SERVER_ENV = {
    "DATABASE_URL": APP_ROLE_URL,
    "DATABASE_OWNER_URL": SERVER_URL,
    "DJANGO_SECRET_KEY": "bench-" + "k" * 50,
    "DJANGO_DEBUG": "0",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    "DJANGO_SECURE_SSL_REDIRECT": "0",
    "DJANGO_SECURE_COOKIES": "0",
    "DJANGO_HSTS_SECONDS": "0",
    "DJANGO_REQUIRE_2FA": "0",
    "DJANGO_LOG_LEVEL": "WARNING",
    "DJANGO_ENV_FILE": "/nonexistent",
}


def django_setup():
    os.environ.update(SERVER_ENV)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    sys.path.insert(0, str(PROJECT))
    import django

    django.setup()


def recreate_database():
    import psycopg

    name = SERVER_URL.rsplit("/", 1)[1]
    admin_url = SERVER_URL.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def generate(patients=1000, consultations=3000):
    """A clinic with patients and submitted intakes, written in bulk."""
    import datetime

    from django.contrib.auth.models import Group, User
    from django.core.management import call_command

    from clinic.models import Clinic, StaffMembership
    from consultations.models import (
        ConditionAnswer,
        Consultation,
        ConsultationConcern,
        Patient,
    )
    from consultations.selectors import intake_catalogue

    call_command("db_roles", create_role=True, stdout=open(os.devnull, "w"))
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    call_command("load_catalogue", verbosity=0, stdout=open(os.devnull, "w"))
    clinic = Clinic.objects.create(name="Benchmark Clinic", phone="+44 20 0000 0000")
    user = User.objects.create_user("bench-clinician", password="bench-password-12345",
                                    first_name="Bench", last_name="Clinician")
    user.groups.add(Group.objects.get(name="Clinician"))
    StaffMembership.objects.create(user=user, clinic=clinic)
    rng = random.Random(7)
    people = Patient.objects.bulk_create(
        Patient(clinic=clinic, full_name=f"Patient {n:04d} Example",
                date_of_birth=datetime.date(1950, 1, 1) + datetime.timedelta(days=rng.randrange(20000)),
                phone=f"+44 7700 {n:06d}", phone_digits=f"447700{n:06d}")
        for n in range(patients))
    catalogue = intake_catalogue()
    concerns = catalogue.concerns
    intakes = Consultation.objects.bulk_create(
        Consultation(patient=people[n % patients], clinician=user, status="submitted",
                     fitzpatrick=rng.choice(["I", "II", "III", "IV", "V", "VI"]),
                     skin_type="normal", treatment_area="full_face", history_reviewed=True,
                     consultation_date=datetime.date.today())
        for n in range(consultations))
    ConsultationConcern.objects.bulk_create(
        ConsultationConcern(consultation=c, concern=concern, severity="moderate")
        for c in intakes for concern in rng.sample(concerns, 2))
    ConditionAnswer.objects.bulk_create(
        ConditionAnswer(consultation=c, condition=condition,
                        answer="yes" if rng.random() < 0.05 else "no")
        for c in intakes for condition in catalogue.conditions)
    return user, people, intakes


def staff_cookie(user):
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session["signed-in-at"] = session["last-activity"] = time.time()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def plan_for(user, consultation):
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    from consultations.plan_services import plan_create, plan_procedure_add, plan_share
    from consultations.selectors import consultation_recommendation
    from treatments.models import Treatment

    plan = plan_create(user=user, consultation=consultation)
    for result in consultation_recommendation(consultation).recommended[:2]:
        plan_procedure_add(user=user, plan=plan, treatment=Treatment.objects.get(code=result.code),
                           justification="Benchmark." if result.cautions else "")
    link, token = plan_share(user=user, plan=plan, link_url=str)
    session = SessionStore()
    session[f"plan-link-{link.pk}"] = timezone.now().isoformat()
    session.create()
    return token, f"sessionid={session.session_key}"


def intake_post_script(cookie, patient_pk):
    """A wrk Lua script that submits a complete intake form (with its CSRF token)."""
    request = urllib.request.Request(f"{BASE}/patients/{patient_pk}/consultations/new/",
                                     headers={"Cookie": cookie})
    with urllib.request.urlopen(request) as response:
        page = response.read().decode()
        csrf_cookie = re.search(r"csrftoken=([^;]+)", response.headers["Set-Cookie"]).group(1)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    fields = {"csrfmiddlewaretoken": token, "consultation_date": time.strftime("%Y-%m-%d"),
              "skin_type": "normal", "fitzpatrick": "III", "treatment_area": "full_face",
              "concern_acne_scars": "moderate", "history_reviewed": "on", "submit": "1"}
    fields.update({name: value for name, value in re.findall(
        r'type="radio" name="((?:condition|dated)_[a-z0-9_]+)"[^>]*value="(no|never)"', page)})
    body = urllib.parse.urlencode(fields)
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    script.write_text(
        'wrk.method = "POST"\n'
        f'wrk.body = "{body}"\n'
        'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
        f'wrk.headers["Cookie"] = "{cookie}; csrftoken={csrf_cookie}"\n')
    return script


def start_server():
    env = {**os.environ, **SERVER_ENV}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "clinic.wsgi:application", "--workers", "2",
         "--bind", f"127.0.0.1:{PORT}", "--log-level", "warning"],
        cwd=PROJECT, env=env)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{BASE}/healthz", timeout=1)
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("gunicorn did not start")


def wrk(url, cookie="", script=None):
    """Load one page for DURATION after a short unrecorded warm-up (each worker's first
    requests load templates and the catalogue; the table is about the steady state)."""
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", "--latency", url]
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    if script:
        command[1:1] = ["-s", str(script)]
    subprocess.run([*command, f"-d{WARM_UP}"], capture_output=True, check=True)
    output = subprocess.run([*command, f"-d{DURATION}"], capture_output=True, text=True,
                            check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))

    def percentile(label):
        value, unit = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)", output).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    errors = 0
    for pattern in (r"Non-2xx or 3xx responses: (\d+)", r"Socket errors: connect (\d+), "
                    r"read (\d+), write (\d+), timeout (\d+)"):
        match = re.search(pattern, output)
        if match:
            errors += sum(int(n) for n in match.groups())
    return rps, percentile("50"), percentile("99"), errors


def main():
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed (Debian: apt-get install wrk)")
    django_setup()
    recreate_database()
    from django.db import connection

    connection.close()
    user, people, intakes = generate()
    cookie = staff_cookie(user)
    token, patient_cookie = plan_for(user, intakes[0])
    consultation = intakes[1]
    connection.close()
    server = start_server()
    try:
        script = intake_post_script(cookie, people[2].pk)
        rows = [
            ("floor: /healthz", *wrk(f"{BASE}/healthz")),
            ("catalogue list", *wrk(f"{BASE}/catalogue/", cookie)),
            ("recommendation page", *wrk(f"{BASE}/consultations/{consultation.pk}/recommendations/",
                                         cookie)),
            ("patient plan page", *wrk(f"{BASE}/p/{token}/", patient_cookie)),
            ("intake submission", *wrk(f"{BASE}/patients/{people[2].pk}/consultations/new/",
                                       cookie, script)),
        ]
    finally:
        server.terminate()
        server.wait(10)
    floor = rows[0][1]
    lines = [f"gunicorn 2 workers, PostgreSQL, {CONNECTIONS} connections, {DURATION} each "
             f"after a {WARM_UP} warm-up, 1,000 patients / 3,000 consultations",
             "", "| page | req/s | p50 ms | p99 ms | errors | share of floor |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for name, rps, p50, p99, errors in rows:
        lines.append(f"| {name} | {rps:.0f} | {p50:.1f} | {p99:.1f} | {errors} | "
                     f"{rps / floor:.2f} |")
    targets = [row for row in rows if row[0] in ("recommendation page", "patient plan page")]
    met = all(rps / floor >= 0.25 and p99 < 250 and errors == 0
              for _name, rps, _p50, p99, errors in targets)
    lines.append("")
    lines.append("targets (recommendation and plan pages >= 0.25 of floor, p99 < 250 ms, "
                 f"no errors): {'met' if met else 'MISSED'}")
    report = "\n".join(lines)
    print(report)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "bench.md").write_text(report + "\n")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
