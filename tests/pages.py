import re

PER_RESPONSE = re.compile(r'(name="csrfmiddlewaretoken" value|nonce)="[^"]+"')


def as_read(response):
    """A page as its reader sees it: without the form tokens and script nonces that differ
    on every response."""
    return PER_RESPONSE.sub("", response.content.decode())
