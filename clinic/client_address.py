"""The caller's address, as the sign-in lockout and the audit trail both record it.

Without a reverse proxy (TRUSTED_PROXY_COUNT = 0) the caller is the connection's own
address, REMOTE_ADDR, and an X-Forwarded-For header is ignored: anyone can send one.
Behind N trusted proxies, each of which appends the address it was connected from to
X-Forwarded-For (nginx's `$proxy_add_x_forwarded_for`), the caller is the N-th address from
the right: those were written by our proxies, whatever the caller wrote to the left of them.
django-ipware does the parsing (ports, brackets, IPv4-mapped IPv6, garbage tokens).
"""

from django.conf import settings
from ipware import get_client_ip

FORWARDED_FOR = "HTTP_X_FORWARDED_FOR"


def client_ip(request):
    """The caller's address, or None when there is no valid one."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        # ipware counts the proxies named in the header, after the client: the right-most
        # entry is the one our nearest proxy added, so N proxies name N - 1 addresses there.
        address, _routable = get_client_ip(
            request, proxy_order="left-most", proxy_count=proxies - 1,
            request_header_order=[FORWARDED_FOR], strict=False, algorithm="modern")
        if address is not None:
            return address
        # A header with fewer entries than there are proxies did not come through them all
        # (a health check from the proxy's own machine, say): the connection is the caller.
    address, _routable = get_client_ip(request, request_header_order=["REMOTE_ADDR"],
                                       algorithm="modern")
    return address
