"""The current request, for the audit trail and the logs (no models imported here: the
logging configuration loads this module before the apps are ready)."""

import contextvars
import logging
import re
import uuid

_request = contextvars.ContextVar("clinic_request", default=None)
# What a caller's X-Request-ID may be to be kept at all: a proxy's or a client's trace id.
CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def request_context_set(request):
    return _request.set(request)


def request_context_reset(token):
    _request.reset(token)


def current_request():
    return _request.get()


def request_id():
    request = current_request()
    return getattr(request, "request_id", "") if request is not None else ""


def client_request_id():
    request = current_request()
    return getattr(request, "client_request_id", "") if request is not None else ""


def new_request_id(request):
    """The server's own id for this request, whatever the caller sent: the audit trail and
    the logs name requests by an id no caller can choose."""
    return uuid.uuid4().hex


def caller_request_id(request):
    """The caller's X-Request-ID, kept beside the server's id (never instead of it) when it
    is short and plain; anything else is dropped."""
    given = request.META.get("HTTP_X_REQUEST_ID", "")
    return given if CLIENT_REQUEST_ID.fullmatch(given) else ""


class RequestIdLogFilter(logging.Filter):
    """Adds the request id to every log record, so logs and the audit trail line up, and the
    caller's own X-Request-ID, as such, when it sent one."""

    def filter(self, record):
        record.request_id = request_id() or "-"
        record.client_request_id = client_request_id() or "-"
        return True
