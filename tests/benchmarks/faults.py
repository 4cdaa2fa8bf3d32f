"""Database restarts under load (`make faults`).

Starts its own PostgreSQL cluster (so no other database is disturbed), serves the app with
gunicorn, submits intakes from several threads, and restarts PostgreSQL twice meanwhile.
Checks: every submission that got a success answer is stored exactly once; the app recovers
by itself within 10 seconds of the database coming back; during the outage users get the
clear error page, never a stack trace; the same form sent twice stores one consultation.
"""

import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
PG_PORT = int(os.environ.get("FAULTS_PG_PORT", "55439"))
APP_PORT = int(os.environ.get("FAULTS_APP_PORT", "8766"))
BASE = f"http://127.0.0.1:{APP_PORT}"
OWNER_URL = f"postgres://postgres@127.0.0.1:{PG_PORT}/clinic_faults"
# gunicorn runs as the app's own role, which owns no table (docs/deploy.md).
DATABASE_URL = f"postgres://clinic_app:clinic-app-faults@127.0.0.1:{PG_PORT}/clinic_faults"
LOAD_SECONDS = 36
THREADS = 4


def pg_bin(name):
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise SystemExit("PostgreSQL server binaries are needed (Debian: apt-get install postgresql)")
    return found[-1]


def as_postgres(*command):
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run([*prefix, *command], check=True, capture_output=True, text=True)


class Cluster:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="clinic-faults-pg-")
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
        as_postgres(pg_bin("initdb"), "-D", self.dir, "-A", "trust", "-U", "postgres")

    def ctl(self, *args):
        as_postgres(pg_bin("pg_ctl"), "-D", self.dir, "-w", "-l", f"{self.dir}/log",
                    "-o", f"-p {PG_PORT} -k {self.dir} -c listen_addresses=127.0.0.1", *args)

    def start(self):
        self.ctl("start")

    def stop(self):
        self.ctl("stop", "-m", "fast")

    def remove(self):
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


SERVER_ENV = {
    "DATABASE_URL": DATABASE_URL, "DATABASE_OWNER_URL": OWNER_URL, "DJANGO_SECRET_KEY": "faults-" + "k" * 50,
    "DJANGO_DEBUG": "0", "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
    "DJANGO_SECURE_SSL_REDIRECT": "0", "DJANGO_SECURE_COOKIES": "0",
    "DJANGO_HSTS_SECONDS": "0", "DJANGO_REQUIRE_2FA": "0", "DJANGO_LOG_LEVEL": "CRITICAL",
    "DJANGO_ENV_FILE": "/nonexistent",
}


def prepare():
    """Database, catalogue, a clinician and a patient; returns a signed-in cookie and the
    intake form's address."""
    import psycopg

    with psycopg.connect(f"postgres://postgres@127.0.0.1:{PG_PORT}/postgres",
                         autocommit=True) as connection:
        connection.execute("CREATE DATABASE clinic_faults")
    os.environ.update(SERVER_ENV)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    sys.path.insert(0, str(PROJECT))
    import datetime

    import django

    django.setup()
    from django.core.management import call_command

    call_command("db_roles", create_role=True, stdout=open(os.devnull, "w"))
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    call_command("load_catalogue", verbosity=0, stdout=open(os.devnull, "w"))
    from tests.benchmarks.http_benchmark import staff_cookie
    from clinic.models import Clinic, StaffMembership
    from consultations.models import Patient
    from django.contrib.auth.models import Group, User

    clinic = Clinic.objects.create(name="Faults Clinic")
    user = User.objects.create_user("faults-clinician", password="faults-password-123")
    user.groups.add(Group.objects.get(name="Clinician"))
    StaffMembership.objects.create(user=user, clinic=clinic)
    patient = Patient.objects.create(clinic=clinic, full_name="Load Patient",
                                     date_of_birth=datetime.date(1980, 1, 1))
    from django.db import connection

    cookie = staff_cookie(user)
    connection.close()
    return cookie, f"{BASE}/patients/{patient.pk}/consultations/new/"


def form_fields(url, cookie):
    request = urllib.request.Request(url, headers={"Cookie": cookie})
    with urllib.request.urlopen(request, timeout=10) as response:
        page = response.read().decode()
        csrf = re.search(r"csrftoken=([^;]+)", response.headers["Set-Cookie"]).group(1)
    fields = {"csrfmiddlewaretoken": re.search(
        r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1),
        "consultation_date": time.strftime("%Y-%m-%d"), "skin_type": "normal",
        "fitzpatrick": "III", "treatment_area": "full_face", "concern_acne_scars": "mild",
        "history_reviewed": "on", "submit": "1"}
    fields.update(dict(re.findall(
        r'type="radio" name="((?:condition|dated)_[a-z0-9_]+)"[^>]*value="(no|never)"', page)))
    return fields, f"{cookie}; csrftoken={csrf}"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def submit(url, fields, cookie, marker, key):
    body = urllib.parse.urlencode({**fields, "clinician_notes": marker,
                                   "submission_key": key}).encode()
    request = urllib.request.Request(url, data=body, headers={
        "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=15) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")
    except OSError as error:
        return 0, str(error)


def main():
    cluster = Cluster()
    server = None
    try:
        cluster.start()
        cookie, url = prepare()
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "clinic.wsgi:application", "--workers", "2",
             "--bind", f"127.0.0.1:{APP_PORT}", "--log-level", "critical"],
            cwd=PROJECT, env={**os.environ, **SERVER_ENV})
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{BASE}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        fields, full_cookie = form_fields(url, cookie)

        results, lock, stop = [], threading.Lock(), threading.Event()

        def worker():
            while not stop.is_set():
                marker = f"load-{uuid.uuid4().hex}"
                status, body = submit(url, fields, full_cookie, marker, str(uuid.uuid4()))
                with lock:
                    results.append((time.monotonic(), marker, status, body))

        threads = [threading.Thread(target=worker) for _ in range(THREADS)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        back_at = []
        time.sleep(8)
        cluster.ctl("restart", "-m", "fast")
        back_at.append(time.monotonic())
        time.sleep(8)
        cluster.stop()
        time.sleep(3)
        cluster.start()
        back_at.append(time.monotonic())
        time.sleep(max(0, LOAD_SECONDS - (time.monotonic() - started)))
        stop.set()
        for thread in threads:
            thread.join()

        # The same form sent twice: one consultation.
        key = str(uuid.uuid4())
        twice = [submit(url, fields, full_cookie, "double-click", key)[0] for _ in range(2)]
        server.terminate()
        server.wait(10)
        server = None

        import psycopg

        with psycopg.connect(DATABASE_URL) as connection:
            stored = dict(connection.execute(
                "SELECT clinician_notes, count(*) FROM consultations_consultation "
                "GROUP BY clinician_notes").fetchall())
        succeeded = [marker for _t, marker, status, _b in results if status == 302]
        failed = [(status, body) for _t, _m, status, body in results if status != 302]
        problems = []
        wrong = [m for m in succeeded if stored.get(m) != 1]
        if wrong:
            problems.append(f"{len(wrong)} successful submissions not stored exactly once")
        traces = [status for status, body in failed if "Traceback" in body]
        if traces:
            problems.append(f"{len(traces)} error answers showed a stack trace")
        unclear = [status for status, body in failed if status and "not saved" not in body]
        if unclear:
            problems.append(f"{len(unclear)} error answers without the clear page: {unclear[:5]}")
        recoveries = []
        for moment in back_at:
            after = [t for t, _m, status, _b in results if status == 302 and t >= moment]
            recoveries.append(min(after) - moment if after else float("inf"))
        if any(seconds > 10 for seconds in recoveries):
            problems.append(f"slow recovery: {recoveries}")
        if stored.get("double-click") != 1 or twice != [302, 302]:
            problems.append(f"double submission stored {stored.get('double-click')} times")
        print(f"submissions: {len(results)}, succeeded: {len(succeeded)}, "
              f"refused during outages: {len(failed)} "
              f"(statuses {sorted(set(s for s, _b in failed))})")
        print("recovery after each restart: "
              + ", ".join(f"{seconds:.1f} s" for seconds in recoveries))
        print(f"double submission stored {stored.get('double-click')} time(s)")
        print("all checks passed" if not problems else "PROBLEMS: " + "; ".join(problems))
        return 0 if not problems else 1
    finally:
        if server is not None:
            server.kill()
        cluster.remove()


if __name__ == "__main__":
    sys.exit(main())
