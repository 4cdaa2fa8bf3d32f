"""Database restarts under load (`make faults`).

Starts its own PostgreSQL cluster (so no other database is disturbed), serves the app with
gunicorn, submits intakes from several threads, and restarts PostgreSQL twice meanwhile.
Checks: every submission that got a success answer is stored exactly once; the app recovers
by itself within 10 seconds of the database coming back; during the outage users get the
clear error page, never a stack trace; the same form sent twice stores one consultation.

Then email, with the mail worker (`manage.py qcluster`) and a local SMTP server
(tests/benchmarks/smtp_sink.py) that counts Message-IDs:
- mail server down, then back: a patient asks questions while no mail server answers; every
  question is stored and answered normally, the notices wait; once the mail server is back,
  every notice arrives exactly once;
- worker killed mid-send: the worker is killed (SIGKILL) while it sends a batch of notices to
  a slow mail server, then started again; no notice is lost or arrives twice.
"""

import collections
import glob
import http.cookiejar
import os
import re
import shutil
import signal
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
SMTP_PORT = int(os.environ.get("FAULTS_SMTP_PORT", "8767"))
QUESTIONS = 12


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
# The mail worker sends to the local SMTP server, and retries and takes up a killed send
# after seconds rather than minutes, so that the run stays short.
MAIL_ENV = {
    "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "DJANGO_EMAIL_HOST": "127.0.0.1", "DJANGO_EMAIL_PORT": str(SMTP_PORT),
    "DJANGO_EMAIL_TIMEOUT": "5", "DJANGO_EMAIL_RETRY_SECONDS": "2",
    "DJANGO_EMAIL_RETRY_MAX_SECONDS": "10", "DJANGO_EMAIL_CLAIM_SECONDS": "8",
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

    clinic = Clinic.objects.create(name="Faults Clinic", email="desk@faults-clinic.example")
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


# -- Email: mail server down, worker killed ----------------------------------------------------

class SmtpSink:
    """The local mail server, started and stopped at will; its log lists what it accepted."""

    def __init__(self, log_path):
        self.log_path, self.process = log_path, None

    def start(self, delay=0.0):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.benchmarks.smtp_sink", "--port", str(SMTP_PORT),
             "--log", self.log_path, "--delay", str(delay)], cwd=PROJECT)
        wait_until(lambda: port_open(SMTP_PORT), 10)

    def stop(self):
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None

    def outcomes(self):
        """How often each Message-ID was accepted, and how many sends it dropped."""
        accepted, dropped = collections.Counter(), 0
        if os.path.exists(self.log_path):
            for line in open(self.log_path, encoding="utf-8"):
                outcome, _space, message_id = line.strip().partition(" ")
                if outcome == "accepted":
                    accepted[message_id] += 1
                else:
                    dropped += 1
        return accepted, dropped


def port_open(port):
    import socket

    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def wait_until(condition, seconds):
    """Seconds it took for `condition` to hold, or None if it did not within `seconds`."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if condition():
            return time.monotonic() - started
        time.sleep(0.5)
    return None


class MailWorker:
    """`manage.py qcluster` in its own process group, so that it can be killed whole."""

    def __init__(self):
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"], cwd=PROJECT, start_new_session=True,
            env={**os.environ, **SERVER_ENV, **MAIL_ENV},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def kill(self):
        """SIGKILL to every process of the worker at once, as a crash would."""
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait(30)
            self.process = None

    def stop(self):
        """SIGTERM, as systemd or Ctrl-C in `make run` sends: the worker finishes and stops."""
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                pass
            self.kill()


class PatientBrowser:
    """A patient's browser on their plan link: cookies kept, redirects not followed."""

    def __init__(self, token):
        self.url = f"{BASE}/p/{token}/"
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect)

    def send(self, url, fields=None):
        body = urllib.parse.urlencode(fields).encode() if fields is not None else None
        request = urllib.request.Request(url, data=body)
        try:
            with self.opener.open(request, timeout=15) as response:
                return response.status, response.read().decode(errors="replace")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")
        except OSError as error:
            return 0, str(error)

    def csrf(self):
        _status, page = self.send(self.url)
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)

    def confirm(self, date_of_birth):
        return self.send(self.url, {"csrfmiddlewaretoken": self.csrf(),
                                    "date_of_birth": date_of_birth})[0]

    def ask(self, message):
        return self.send(self.url + "question/", {"csrfmiddlewaretoken": self.csrf(),
                                                  "message": message})


def shared_plan():
    """A plan shared with the load patient (from the double-submitted intake); its token."""
    from django.contrib.auth.models import User

    from consultations.models import Consultation
    from consultations.plan_services import plan_create, plan_procedure_add, plan_share
    from treatments.models import Treatment

    user = User.objects.get(username="faults-clinician")
    consultation = Consultation.objects.get(clinician_notes="double-click")
    plan = plan_create(user=user, consultation=consultation)
    plan_procedure_add(user=user, plan=plan, treatment=Treatment.objects.get(code="SILICONE_GEL"))
    _link, token = plan_share(user=user, plan=plan, link_url=lambda token: token)
    return plan, token


def notices(**filters):
    from clinic.models import OutgoingEmail

    return OutgoingEmail.objects.filter(kind=OutgoingEmail.Kind.QUESTION_NOTICE, **filters)


def mail_faults():
    """Both email cases; returns the problems found."""
    from consultations.models import PlanQuestion

    problems = []
    sink = SmtpSink(tempfile.mktemp(prefix="clinic-faults-smtp-", suffix=".log"))
    worker = MailWorker()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "clinic.wsgi:application", "--workers", "2",
         "--bind", f"127.0.0.1:{APP_PORT}", "--log-level", "critical"],
        cwd=PROJECT, env={**os.environ, **SERVER_ENV, **MAIL_ENV})
    try:
        wait_until(lambda: port_open(APP_PORT), 20)
        plan, token = shared_plan()
        browser = PatientBrowser(token)
        if browser.confirm("1980-01-01") != 302:
            return ["the patient could not open their plan"]
        worker.start()

        # (a) Mail server down, then back.
        answers = [browser.ask(f"Question {n} while the mail server is down")
                   for n in range(QUESTIONS)]
        statuses = collections.Counter(status for status, _body in answers)
        stored = PlanQuestion.objects.filter(plan=plan).count()
        tried = wait_until(lambda: notices(attempts__gte=1).count() == QUESTIONS, 30)
        waiting = notices(status="pending").count()
        print(f"mail server down: {QUESTIONS} questions asked, answers {dict(statuses)}, "
              f"{stored} stored; notices waiting: {waiting} "
              f"(each tried{' ' if tried is not None else ' NOT '}while the server was down, "
              f"{notices(status='sent').count()} sent)")
        if set(statuses) - {302} or stored != QUESTIONS:
            problems.append(f"questions refused or lost while the mail server was down: "
                            f"{dict(statuses)}, {stored} of {QUESTIONS} stored")
        if waiting != QUESTIONS or tried is None:
            problems.append(f"{waiting} of {QUESTIONS} notices waiting while the mail "
                            f"server was down")
        sink.start()
        delivered_in = wait_until(lambda: notices(status="sent").count() == QUESTIONS, 240)
        accepted, _dropped = sink.outcomes()
        first = list(notices().values_list("message_id", flat=True))
        counts = collections.Counter(accepted[message_id] for message_id in first)
        print("mail server back: "
              + (f"all {QUESTIONS} notices sent within {delivered_in:.0f} s"
                 if delivered_in is not None else
                 f"only {notices(status='sent').count()} of {QUESTIONS} notices sent")
              + f"; at the mail server: {counts[1]} once, {counts[0]} missing, "
                f"{sum(n for times, n in counts.items() if times > 1)} more than once")
        if delivered_in is None or counts[1] != QUESTIONS:
            problems.append("notices lost or repeated after the mail server came back")

        # (b) The worker killed mid-send, with a slow mail server.
        sink.stop()
        sink.start(delay=0.5)
        answers = [browser.ask(f"Question {n} before the worker is killed")
                   for n in range(QUESTIONS)]
        if any(status != 302 for status, _body in answers):
            problems.append("questions refused while the worker was running")
        wait_until(lambda: (notices(status="sent").count() >= QUESTIONS + 3
                            and notices(status="sending").exists()), 60)
        worker.kill()
        sent_before = notices(status="sent").count() - QUESTIONS
        in_flight = notices(status="sending").count()
        time.sleep(int(MAIL_ENV["DJANGO_EMAIL_CLAIM_SECONDS"]) + 1)
        worker.start()
        delivered_in = wait_until(
            lambda: notices(status="sent").count() == 2 * QUESTIONS, 240)
        accepted, dropped = sink.outcomes()
        second = list(notices().exclude(message_id__in=first)
                      .values_list("message_id", flat=True))
        counts = collections.Counter(accepted[message_id] for message_id in second)
        print(f"worker killed mid-send: {sent_before} of {QUESTIONS} notices sent before the "
              f"kill, {in_flight} in flight (the mail server dropped {dropped} send(s) cut "
              f"off before it accepted them); after the restart "
              + (f"all sent within {delivered_in:.0f} s" if delivered_in is not None else
                 f"only {notices(status='sent').count() - QUESTIONS} sent")
              + f"; at the mail server: {counts[1]} once, {counts[0]} missing, "
                f"{sum(n for times, n in counts.items() if times > 1)} more than once")
        if in_flight == 0:
            problems.append("the worker was not killed mid-send")
        if delivered_in is None or counts[1] != QUESTIONS or len(second) != QUESTIONS:
            problems.append("notices lost or repeated after the worker was killed")
    finally:
        worker.stop()
        sink.stop()
        server.terminate()
        server.wait(10)
        from django.db import connection

        connection.close()
    return problems


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
        problems += mail_faults()
        print("all checks passed" if not problems else "PROBLEMS: " + "; ".join(problems))
        return 0 if not problems else 1
    finally:
        if server is not None:
            server.kill()
        cluster.remove()


if __name__ == "__main__":
    sys.exit(main())
