"""Error pages that must render even when the database is what failed: no request context
(its processors read the database), plain templates."""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.views.decorators.csrf import requires_csrf_token

DATABASE_ERRORS = (OperationalError, InterfaceError)


def database_unavailable():
    """503 with a Retry-After: the database is briefly away (a restart, a failover)."""
    response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = "10"
    return response


@requires_csrf_token
def server_error(request):
    """The 500 page, or the 503 page when the error was the database being unreachable."""
    if isinstance(sys.exc_info()[1], DATABASE_ERRORS):
        return database_unavailable()
    return HttpResponse(render_to_string("500.html"), status=500)
