"""Settings for the clinic project, read from the environment.

Every value that differs between a laptop demo and a production server comes from an
environment variable (or a `.env` file beside manage.py). The defaults are the safe ones:
debug off, no secret key, no allowed hosts beyond the loopback address.
"""

import datetime
import secrets
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(env.str("DJANGO_ENV_FILE", default=str(BASE_DIR / ".env")), overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it in the environment (or in .env) to a long "
            "random value; it is only optional when DJANGO_DEBUG is on."
        )
    # A throw-away key for local debugging: sessions end when the process restarts.
    SECRET_KEY = secrets.token_urlsafe(50)

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "clinic.apps.ClinicAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.forms",
    "crispy_forms",
    "crispy_bootstrap5",
    "bootstrap",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "django_q",
    "treatments",
    "consultations",
    # Last, so that its post-migrate role set-up sees every app's permissions.
    "clinic.apps.ClinicConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "clinic.middleware.RequestContextMiddleware",
    "clinic.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Before anything looks a path or a query value up: a NUL there gets a 400 page.
    "clinic.middleware.NulInAddressMiddleware",
    "django.middleware.common.CommonMiddleware",
    "clinic.middleware.PatientPageOriginMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "clinic.middleware.SessionTimeoutMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "clinic.middleware.TwoFactorRequiredMiddleware",
    "clinic.middleware.ConsentHandoverMiddleware",
    "clinic.middleware.SignedInNoStoreMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into its lockout response.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # First, so that locked-out accounts and addresses are refused before any password check.
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, reading the clinic and permissions in fewer queries.
    "clinic.backends.StaffBackend",
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clinic.context_processors.staff_context",
            ],
        },
    },
]

# Form widgets render through the project templates too (admin widgets included).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# On PostgreSQL the app runs as its own role (DATABASE_URL), which owns no table, and
# migrations run as the tables' owner (DATABASE_OWNER_URL, same database): see
# clinic.database_roles and docs/deploy.md. Unset (or on SQLite), one role does both.
DATABASE_OWNER = (env.db("DATABASE_OWNER_URL")
                  if env.str("DATABASE_OWNER_URL", default="")
                  and DATABASES["default"]["ENGINE"].endswith("postgresql") else None)
if DATABASE_OWNER is not None and DATABASE_OWNER["NAME"] != DATABASES["default"]["NAME"]:
    raise ImproperlyConfigured(
        "DATABASE_OWNER_URL must name the same database as DATABASE_URL (it is the same "
        "database, reached as the role that owns its tables)."
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Rendered recommendations and patient plans are kept (clinic.fragments) in each server
# process's own memory by default, so the health information in them stays in that process.
# A shared cache (DJANGO_CACHE_URL, e.g. redis://...) must be as private as the database.
CACHES = {
    "default": env.cache("DJANGO_CACHE_URL", default="locmemcache://clinic"),
}
if CACHES["default"]["BACKEND"].endswith("LocMemCache"):
    CACHES["default"].setdefault("OPTIONS", {}).setdefault("MAX_ENTRIES", 500)
FRAGMENT_CACHE_SECONDS = env.int("DJANGO_FRAGMENT_CACHE_SECONDS", default=60 * 60)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "clinic:sign-in"
LOGIN_REDIRECT_URL = "clinic:home"
LOGOUT_REDIRECT_URL = "clinic:sign-in"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("DJANGO_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# -- Security: safe by default; the local demo turns HTTPS-only settings off in its .env. ----

# HTTPS only, told to browsers for a year (HSTS), cookies never sent in clear.
# A treatment's admin page carries every rule of the treatment (one per condition, some 70,
# each with its evidence) in one form: about 2,000 fields. The limit stays, above that.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5000

# How many reverse proxies stand in front of the app, each appending the address it was
# connected from to X-Forwarded-For (docs/deploy.md). 0: the connection's own address is the
# caller's and X-Forwarded-For is ignored. The sign-in lockout and the audit trail read the
# caller's address the same way (clinic.client_address).
TRUSTED_PROXY_COUNT = env.int("DJANGO_TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("DJANGO_TRUSTED_PROXY_COUNT is a number of proxies: 0 or more.")

SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_PROXY_SSL_HEADER = (("HTTP_X_FORWARDED_PROTO", "https")
                           if env.bool("DJANGO_BEHIND_HTTPS_PROXY", default=False) else None)
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Sessions: signed out after 30 minutes without activity, and 12 hours after signing in
# whatever the activity (see clinic.middleware.SessionTimeoutMiddleware).
SESSION_IDLE_SECONDS = 30 * 60
SESSION_MAX_SECONDS = 12 * 60 * 60
SESSION_COOKIE_AGE = SESSION_MAX_SECONDS
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Sign-in protection (clinic.sign_in_protection, over django-axes' record of failures, each
# counting for 30 minutes after its account's last failure from that address):
# - 5 failures lock an account from one address; it still signs in from anywhere else;
# - 20 failures at any accounts lock an address (staff behind one NAT address share it, so
#   the limit is high, and it does not apply to a device that signed in to the account);
# - from 10 failures of an account from all addresses together, a sign-in to it from a
#   device that has not signed in to it before waits 1 second after the latest failure,
#   doubling with each further one, up to a minute. A known device never waits.
# Staff confirm sign-in with a TOTP code (django-otp) where required.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = datetime.timedelta(minutes=30)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_HANDLER = "clinic.sign_in_protection.SignInLockoutHandler"
AXES_CLIENT_IP_CALLABLE = "clinic.client_address.client_ip"
AXES_RESET_ON_SUCCESS = True
SIGN_IN_ADDRESS_FAILURE_LIMIT = env.int("DJANGO_SIGN_IN_ADDRESS_FAILURE_LIMIT", default=20)
SIGN_IN_SLOWDOWN_AFTER = 10
SIGN_IN_SLOWDOWN_FIRST_SECONDS = 1
SIGN_IN_SLOWDOWN_MAX_SECONDS = 60
SIGN_IN_KNOWN_DEVICE_DAYS = 90
AXES_LOCKOUT_TEMPLATE = "clinic/locked_out.html"
# Quiet start-up: no version banner before every command's own output (the `recommend`
# command's standard error is one line on bad input and nothing else). Lockouts and failed
# sign-ins are still logged, naming the locked-out username and address.
AXES_VERBOSE = False
REQUIRE_TWO_FACTOR = env.bool("DJANGO_REQUIRE_2FA", default=True)
OTP_TOTP_ISSUER = env.str("DJANGO_OTP_ISSUER", default="Clinic")
# The first authenticator is linked with a one-time enrolment code (or emailed link) from a
# superuser, never with the password alone; it works once, for this many hours. Staff get
# this many single-use backup codes when they link it. Nobody, superusers included, sees an
# authenticator's key or the backup codes in the admin.
ENROLMENT_CODE_HOURS = env.int("DJANGO_ENROLMENT_CODE_HOURS", default=72)
BACKUP_CODE_COUNT = 10
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Content Security Policy: our own files only, scripts with a per-response nonce, nothing
# inline, no plugins, no framing, no <base> tricks.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}

# Patients' plan links: how long a link lasts, how many wrong dates of birth lock it, the
# pause after a wrong answer (doubling each time) and how long a confirmed visit lasts.
PLAN_LINK_DAYS = env.int("PLAN_LINK_DAYS", default=14)
PLAN_LINK_MAX_ATTEMPTS = 5
PLAN_LINK_RETRY_SECONDS = env.int("PLAN_LINK_RETRY_SECONDS", default=2)
PLAN_LINK_VISIT_MINUTES = 60

EMAIL_BACKEND = env.str("DJANGO_EMAIL_BACKEND",
                        default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="clinic@localhost")
EMAIL_HOST = env.str("DJANGO_EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("DJANGO_EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("DJANGO_EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("DJANGO_EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("DJANGO_EMAIL_USE_TLS", default=False)
# A mail server that stops answering gives up the connection after this many seconds.
EMAIL_TIMEOUT = env.int("DJANGO_EMAIL_TIMEOUT", default=30)

# Email leaves after the action that causes it is saved (clinic.mail): each one is a row of
# clinic.OutgoingEmail, sent by the worker (`python manage.py qcluster`, django-q2 on this
# database: no other server). A failed send is tried again after EMAIL_RETRY_SECONDS,
# doubling each time up to EMAIL_RETRY_MAX_SECONDS, EMAIL_MAX_ATTEMPTS times in all, then
# marked failed for staff to see. A send still unfinished after EMAIL_CLAIM_SECONDS (a
# worker that was stopped mid-send) is taken up again.
EMAIL_RETRY_SECONDS = env.int("DJANGO_EMAIL_RETRY_SECONDS", default=60)
EMAIL_RETRY_MAX_SECONDS = env.int("DJANGO_EMAIL_RETRY_MAX_SECONDS", default=60 * 60)
EMAIL_MAX_ATTEMPTS = env.int("DJANGO_EMAIL_MAX_ATTEMPTS", default=10)
EMAIL_CLAIM_SECONDS = env.int("DJANGO_EMAIL_CLAIM_SECONDS", default=5 * 60)
Q_CLUSTER = {
    "name": "clinic",
    "orm": "default",
    "workers": env.int("DJANGO_WORKER_PROCESSES", default=1),
    # A task is stopped after `timeout` seconds and, if its worker never reported back
    # (stopped or killed), handed out again after `retry` seconds, at most 3 times.
    "timeout": 120,
    "retry": 180,
    "max_attempts": 3,
    "poll": 1,
    # The outbox is the record of what was sent; the queue keeps only failed tasks.
    "save_limit": -1,
    "catch_up": False,
    "label": "Task queue",
}

# Logs carry request ids, never patient data (see clinic.audit for who did what to whom).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "clinic.request_context.RequestIdLogFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] "
                                       "[caller %(client_request_id)s] %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["request_id"],
                             "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
}
