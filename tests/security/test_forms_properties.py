"""Every form and every URL parameter, fed arbitrary input: no server error, everything typed
comes back on a validation error, and a script in any free-text field is never rendered as
markup.

The generated text holds NUL and other control characters, long strings, any unicode and
digits. Each request runs in a savepoint that is rolled back, so every example meets the same
patient, plan and links. Run them on PostgreSQL too: it refuses a NUL in text.

`make test` sends PROPERTY_EXAMPLES inputs to each (25 by default, so the whole suite stays
quick); `make properties` sends 500 to each, on whatever DATABASE_URL names.
"""

import datetime
import os
from urllib.parse import quote, urlencode

import pytest
from django.contrib import admin
from django.db import models, transaction
from django.test import Client
from django.urls import NoReverseMatch, resolve, reverse
from django.urls.converters import IntConverter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consultations.models import Consultation
from consultations.plan_services import plan_create, plan_procedure_add, plan_share
from tests.consultations.intake_data import complete_intake
from tests.factories import PatientFactory
from tests.security.test_access_matrix import (  # noqa: F401 (world is a fixture)
    POST_ONLY,
    QUERY,
    SESSION_ENDERS,
    url_for,
    url_names,
    visitor_for,
    world,
)
from treatments.models import Treatment

pytestmark = pytest.mark.django_db

SCRIPT = '<script>alert("x")</script>'
CONTROL = "\x00\x01\x08\x0b\x1b\x7f\u0085\u200b\u202e\ufeff"
text = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.sampled_from(CONTROL + "ab 1"), max_size=12),
    st.text(max_size=8).map(lambda t: t + "\x00" + t),
    st.integers(min_value=200, max_value=6000).map(lambda n: "x" * n),
    st.from_regex(r"\A-?[0-9]{1,30}\Z"),
    st.dates().map(str),
    st.just(SCRIPT),
    st.text(max_size=20).map(lambda t: t + SCRIPT),
)
digits = st.from_regex(r"\A[0-9]{1,30}\Z")
EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES", "25"))
examples = settings(max_examples=EXAMPLES, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow,
                                           HealthCheck.filter_too_much])


def answer(client, method, url, data=None):
    """The response to one request, whose writes are then rolled back."""
    savepoint = transaction.savepoint()
    try:
        return getattr(client, method)(url, data or {})
    finally:
        transaction.savepoint_rollback(savepoint)


def check(response, data=None, fields=()):
    assert response.status_code < 500
    page = response.content.decode(errors="replace")
    assert SCRIPT not in page
    if response.status_code == 200 and response.context and "form" in response.context:
        form = response.context["form"]
        if form.errors:
            for name in fields:
                value = form[name].value()
                assert (value or "") == data[name] or str(value) == data[name], name


@pytest.fixture
def patient(clinic):
    return PatientFactory(clinic=clinic, date_of_birth=datetime.date(1990, 1, 1))


@pytest.fixture
def draft_plan(client_as, clinician, patient):
    client_as(clinician).post(reverse("consultations:consultation-create", args=[patient.pk]),
                              complete_intake())
    return plan_create(user=clinician, consultation=Consultation.objects.get())


@pytest.fixture
def shared_plan(clinician, draft_plan):
    plan_procedure_add(user=clinician, plan=draft_plan,
                       treatment=Treatment.objects.get(code="MICRONEEDLING"),
                       first_date=datetime.date(2027, 2, 1))
    _link, token = plan_share(user=clinician, plan=draft_plan, link_url=str)
    return draft_plan, token


@pytest.fixture
def draft_with_procedure(clinician, draft_plan):
    plan_procedure_add(user=clinician, plan=draft_plan,
                       treatment=Treatment.objects.get(code="MICRONEEDLING"),
                       first_date=datetime.date(2027, 2, 1))
    return draft_plan


@pytest.fixture
def visitor(shared_plan, settings):
    """The patient, past the date-of-birth gate of their link."""
    settings.PLAN_LINK_RETRY_SECONDS = 0
    settings.PLAN_LINK_MAX_ATTEMPTS = 10_000
    client = Client()
    client.post(f"/p/{shared_plan[1]}/", {"date_of_birth": "1990-01-01"})
    return client


# -- Staff forms ------------------------------------------------------------------------------

@examples
@given(name=text, phone=text, email=text, born=text, sex=text, language=text)
def test_patient_form(client_as, clinician, patient, name, phone, email, born, sex, language):
    data = {"full_name": name, "phone": phone, "email": email, "date_of_birth": born,
            "sex": sex, "preferred_language": language}
    client = client_as(clinician)
    for url in (reverse("consultations:patient-create"),
                reverse("consultations:patient-edit", args=[patient.pk])):
        check(answer(client, "post", url, data), data,
              ["full_name", "phone", "email", "date_of_birth"])


@examples
@given(notes=text, detail=text, when=text, severity=text, on=text, version=text, key=text,
       fitzpatrick=text, question=text)
def test_intake_form(client_as, clinician, patient, notes, detail, when, severity, on, version,
                     key, fitzpatrick, question):
    data = complete_intake(clinician_notes=notes, condition_smoking="yes", detail_smoking=detail,
                           dated_last_tan="date", dated_last_tan_date=when,
                           concern_melasma=severity, consultation_date=on,
                           submission_key=key, fitzpatrick=fitzpatrick, fq_eye_colour=question)
    client = client_as(clinician)
    check(answer(client, "post",
                 reverse("consultations:consultation-create", args=[patient.pk]), data),
          data, ["clinician_notes", "detail_smoking", "dated_last_tan_date"])


@examples
@given(notes=text, detail=text, version=text)
def test_intake_edit_form(client_as, clinician, draft_plan, notes, detail, version):
    consultation = draft_plan.consultation
    data = complete_intake(clinician_notes=notes, condition_smoking="yes", detail_smoking=detail,
                           version=version)
    check(answer(client_as(clinician), "post",
                 reverse("consultations:consultation-edit", args=[consultation.pk]), data),
          data, ["clinician_notes", "detail_smoking"])


@examples
@given(sessions=text, weeks=text, first=text, notes=text, patient_note=text,
       justification=text, treatment=text)
def test_planned_procedure_forms(client_as, clinician, draft_with_procedure, sessions, weeks,
                                 first, notes, patient_note, justification, treatment):
    data = {"sessions": sessions, "interval_weeks": weeks, "first_date": first, "notes": notes,
            "patient_note": patient_note, "justification": justification}
    client = client_as(clinician)
    plan = draft_with_procedure
    add = reverse("consultations:plan-procedure-add", args=[plan.pk])
    edit = reverse("consultations:plan-procedure-edit",
                   args=[plan.pk, plan.procedures.get().pk])
    fields = ["notes", "patient_note", "justification"]
    for url in (f"{add}?treatment=MICRODERM", edit):
        check(answer(client, "post", url, data), data, fields)
    check(answer(client, "post", add, {**data, "treatment": treatment}), data, fields)


@examples
@given(to=text, reason=text)
def test_plan_status_form(client_as, clinician, shared_plan, to, reason):
    plan = shared_plan[0]
    response = answer(client_as(clinician), "post",
                      reverse("consultations:plan-status", args=[plan.pk]),
                      {"to": to, "reason": reason})
    check(response)
    if response.status_code == 200:
        assert response.context["move_error"]["reason"] == reason[:2000]


@examples
@given(justification=text, other=text)
def test_plan_review_form(client_as, clinician, shared_plan, justification, other):
    plan = shared_plan[0]
    procedure = plan.procedures.get()
    response = answer(client_as(clinician), "post",
                      reverse("consultations:plan-review", args=[plan.pk]),
                      {f"justification_{procedure.pk}": justification,
                       "justification_x": other})
    check(response)


@examples
@given(answer_text=text, next_page=text)
def test_question_answer_form(client_as, clinician, shared_plan, answer_text, next_page):
    plan = shared_plan[0]
    question = plan.questions.create(message="How long is the redness?")
    response = answer(client_as(clinician), "post",
                      reverse("consultations:plan-question-answer", args=[plan.pk, question.pk]),
                      {"answer": answer_text, "next": next_page})
    check(response)


@examples
@given(email=text, password=text)
def test_share_and_hand_back_forms(client_as, clinician, shared_plan, email, password):
    plan = shared_plan[0]
    client = client_as(clinician)
    check(answer(client, "post", reverse("consultations:plan-share", args=[plan.pk]),
                 {"email": email}))
    check(answer(client, "post", reverse("consultations:plan-consent-handback", args=[plan.pk]),
                 {"password": password}))


@examples
@given(query=text, page=text)
def test_patient_search_form(client_as, clinician, patient, query, page):
    response = answer(client_as(clinician), "post", reverse("consultations:patient-list"),
                      {"q": query, "page": page})
    check(response)
    if response.status_code == 200:
        assert response.context["search_form"]["q"].value() == query


@pytest.fixture
def fast_password_checks(settings):
    """Each try checks a password (against a dummy account when no account matches): a
    fast hasher keeps 500 tries quick; what is tested is the form's answer, not the hash."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@examples
@given(username=text, password=text)
def test_sign_in_form(fast_password_checks, username, password):
    data = {"username": username, "password": password}
    response = Client().post(reverse("clinic:sign-in"), data)
    assert response.status_code < 500 and SCRIPT not in response.content.decode()


@examples
@given(code=text)
def test_two_step_code_form(client_as, clinician, code, settings):
    settings.REQUIRE_TWO_FACTOR = True
    response = client_as(clinician).post(reverse("clinic:two-factor-setup"), {"code": code})
    assert response.status_code < 500 and SCRIPT not in response.content.decode()
    response = client_as(clinician).post(reverse("clinic:two-factor-setup"),
                                         {"enrolment_code": code})
    assert response.status_code < 500 and SCRIPT not in response.content.decode()


# -- The patient's forms ----------------------------------------------------------------------

@examples
@given(born=text)
def test_date_of_birth_form(shared_plan, born, settings):
    settings.PLAN_LINK_RETRY_SECONDS = 0
    check(answer(Client(), "post", f"/p/{shared_plan[1]}/", {"date_of_birth": born}))


@examples
@given(question=text)
def test_patient_question_form(shared_plan, visitor, question):
    check(answer(visitor, "post", f"/p/{shared_plan[1]}/question/", {"message": question}))


@examples
@given(typed_name=text, signature=text, shown=text, agreed=text, typed_only=text)
def test_consent_form(shared_plan, visitor, typed_name, signature, shown, agreed, typed_only):
    plan, token = shared_plan
    url = f"/p/{token}/consent/{plan.procedures.get().pk}/"
    response = answer(visitor, "post", url, {
        "typed_name": typed_name, "signature": signature, "shown": shown, "agreed": agreed,
        "typed_only": typed_only})
    check(response)
    if response.status_code == 200:
        assert response.context["values"]["typed_name"] == typed_name[:200]


# -- The admin's forms ------------------------------------------------------------------------

def admin_text_fields(model):
    return [field.name for field in model._meta.concrete_fields
            if field.editable and not field.primary_key and not field.is_relation]


ADMIN_FORMS = sorted(f"{model._meta.app_label}_{model._meta.model_name}"
                     for model in admin.site._registry)
MODELS = {f"{model._meta.app_label}_{model._meta.model_name}": model
          for model in admin.site._registry}


@examples
@given(name=st.sampled_from(ADMIN_FORMS), values=st.lists(text, min_size=12, max_size=12),
       change=st.booleans())
def test_admin_forms(client_as, superuser, name, values, change):
    """Every admin add and change form, every plain field typed into at once."""
    model = MODELS[name]
    fields = admin_text_fields(model)
    data = dict(zip(fields, values * (len(fields) // len(values) + 1)))
    obj = model._default_manager.order_by("pk").first()
    url = (reverse(f"admin:{name}_change", args=[obj.pk]) if change and obj
           else reverse(f"admin:{name}_add"))
    check(answer(client_as(superuser), "post", url, data))


# -- Every URL parameter ----------------------------------------------------------------------

def routes():
    """(name, pattern, who asks, method) for every URL, each asked by someone it serves."""
    found = []
    for name, pattern in url_names():
        if name in SESSION_ENDERS:
            continue
        who = ("superuser" if name.startswith("admin:") else
               "link_valid" if name.startswith("patients:") else "clinician_a")
        found.append((name, pattern, who, "post" if name in POST_ONLY else "get"))
    return found


ROUTES = routes()


def path_params():
    params = {}
    for name, pattern, _who, _method in ROUTES:
        keys = set(pattern.pattern.converters) | set(pattern.pattern.regex.groupindex)
        for key in keys:
            params.setdefault(key, []).append(name)
    return params


PATH_PARAMS = path_params()
CHANGELISTS = [name for name, *_ in ROUTES if name.endswith("_changelist")]
# Every query parameter a page reads, with the pages that read it: each example sends all of
# a group's parameters at once, so each parameter meets every generated input.
QUERY_PARAMS = {
    "catalogue filters": (["treatments:treatment-list"],
                          ["page", "text", "concern", "mechanism", "category", "depth"]),
    "patient list": (["consultations:patient-list"], ["page", "q"]),
    "treatment to add": (["consultations:plan-procedure-add"], ["treatment"]),
    "patient page language": (["patients:plan"], ["lang"]),
    "where to go next": (["clinic:sign-in", "clinic:two-factor", "clinic:two-factor-setup",
                          "admin:login"], ["next"]),
    "admin lists": (CHANGELISTS, ["q", "o", "p", "e", "_popup", "_to_field", "all"]),
    "admin forms": ([name for name, *_ in ROUTES if name.endswith(("_add", "_change"))],
                    ["_changelist_filters", "_popup", "_to_field", "_saveasnew"]),
    "admin autocomplete": (["admin:autocomplete"],
                           ["term", "app_label", "model_name", "field_name"]),
}


@pytest.fixture
def visitors(world):
    return {who: visitor_for(who, world) for who in ("superuser", "link_valid", "clinician_a")}


def request_with(world, visitors, name, *, path=None, query=None):
    """Ask for URL `name` with one path parameter replaced (`path`: key, value) or with a
    query (a dict); every other parameter keeps its usual value."""
    _name, pattern, who, method = next(route for route in ROUTES if route[0] == name)
    url = url_for(name, pattern, who, world)
    if path is not None:
        key, value = path
        address, _sep, query_string = url.partition("?")
        kwargs = resolve(address).kwargs
        marker = "0" if isinstance(pattern.pattern.converters.get(key), IntConverter) \
            else "MARKER"
        try:
            address = reverse(name, kwargs={**kwargs, key: marker})
        except NoReverseMatch:  # a pattern the admin writes as a regular expression
            marker = str(kwargs[key])
        address = address.replace(f"/{marker}/", f"/{quote(value, safe='')}/", 1)
        url = address + (f"?{query_string}" if query_string else "")
    if query:
        url = f"{url}{'&' if '?' in url else '?'}{urlencode(query)}"
    return answer(visitors[who], method, url)


@pytest.mark.parametrize("key", sorted(PATH_PARAMS))
def test_every_path_parameter(world, visitors, key):
    values = digits if any(isinstance(pattern.pattern.converters.get(key), IntConverter)
                           for name, pattern, *_ in ROUTES if name in PATH_PARAMS[key]) else text

    @examples
    @given(name=st.sampled_from(PATH_PARAMS[key]), value=values)
    def ask(name, value):
        check(request_with(world, visitors, name, path=(key, value)))

    ask()


@pytest.mark.parametrize("group", sorted(QUERY_PARAMS))
def test_every_query_parameter(world, visitors, group):
    names, keys = QUERY_PARAMS[group]

    @examples
    @given(name=st.sampled_from(names), values=st.lists(text, min_size=len(keys),
                                                        max_size=len(keys)))
    def ask(name, values):
        check(request_with(world, visitors, name, query=dict(zip(keys, values))))

    ask()


@examples
@given(name=st.sampled_from([route[0] for route in ROUTES]),
       query=st.dictionaries(text.filter(bool), text, min_size=1, max_size=3))
def test_any_query_on_any_url(world, visitors, name, query):
    check(request_with(world, visitors, name, query=query))


@examples
@given(name=st.sampled_from(CHANGELISTS),
       lookup=st.sampled_from(["regex", "iregex", "exact", "in", "gt", "isnull", "range",
                               "year", "contains", "startswith", "date"]),
       value=text)
def test_admin_list_lookups(world, visitors, name, lookup, value):
    model = next(m for m in admin.site._registry
                 if name == f"admin:{m._meta.app_label}_{m._meta.model_name}_changelist")
    for field in model._meta.concrete_fields:
        if isinstance(field, (models.CharField, models.TextField, models.DateTimeField,
                              models.IntegerField)) and field.name != "password":
            check(request_with(world, visitors, name, query={f"{field.name}__{lookup}": value}))
            break
