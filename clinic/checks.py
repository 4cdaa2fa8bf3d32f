"""Deployment checks (`manage.py check --deploy`) for settings that only go wrong in
production."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def trusted_proxy_count_behind_a_proxy(app_configs, **kwargs):
    """Behind an HTTPS proxy every connection comes from the proxy: with no trusted proxy,
    the sign-in lockout would count every caller's failures against that one address."""
    if settings.SECURE_PROXY_SSL_HEADER and not settings.TRUSTED_PROXY_COUNT:
        return [Warning(
            "The app is behind an HTTPS proxy (DJANGO_BEHIND_HTTPS_PROXY) but trusts no proxy "
            "for the caller's address (DJANGO_TRUSTED_PROXY_COUNT is 0): every sign-in "
            "failure would count against the proxy's address, and one guesser could lock "
            "the whole clinic out.",
            hint="Set DJANGO_TRUSTED_PROXY_COUNT to the number of proxies in front of the "
                 "app, each appending to X-Forwarded-For (see docs/deploy.md).",
            id="clinic.W001",
        )]
    return []
