"""The current request, for the audit trail and the logs (no models imported here: the
logging configuration loads this module before the apps are ready)."""

import contextvars
import logging
import uuid

_request = contextvars.ContextVar("clinic_request", default=None)


def request_context_set(request):
    return _request.set(request)


def request_context_reset(token):
    _request.reset(token)


def current_request():
    return _request.get()


def request_id():
    request = current_request()
    return getattr(request, "request_id", "") if request is not None else ""


def new_request_id(request):
    """The caller's X-Request-ID when it looks like one (a proxy's), else a fresh one."""
    given = request.META.get("HTTP_X_REQUEST_ID", "")
    if 8 <= len(given) <= 64 and all(ch.isalnum() or ch in "-_" for ch in given):
        return given
    return uuid.uuid4().hex


class RequestIdLogFilter(logging.Filter):
    """Adds the request id to every log record, so logs and the audit trail line up."""

    def filter(self, record):
        record.request_id = request_id() or "-"
        return True
