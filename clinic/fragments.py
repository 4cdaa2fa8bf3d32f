"""Rendered page parts kept for reuse.

A page part that takes long to build (a recommendation worked out from an intake and the
whole catalogue, a patient's plan in plain words) is kept in the cache under a key made of
everything it was built from: the record's id, version and last change, the catalogue's
token, the language. Any change to one of them gives a new key, so a kept part is only ever
served for exactly the inputs it was built from; keys nobody asks for any more simply age out.

Read the versions *before* building the part: what is built is then at least as new as its
key says, never older.

The default cache lives in each server process's memory (see CACHES in the settings), so
these parts, which hold health information, never leave the process that built them.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.utils.safestring import mark_safe

PREFIX = "fragment"


def fragment_key(name, parts):
    digest = hashlib.sha256(repr(tuple(parts)).encode("utf-8")).hexdigest()
    return f"{PREFIX}:{name}:{digest}"


def cached_fragment(name, parts, render):
    """The HTML `render()` returns for these parts, built once and then reused.

    `parts` must name every input the HTML depends on. `render` is only called when no copy
    is kept (or the copy was dropped to make room).
    """
    key = fragment_key(name, parts)
    html = cache.get(key)
    if html is None:
        html = render()
        cache.set(key, str(html), settings.FRAGMENT_CACHE_SECONDS)
    return mark_safe(html)  # built by our own templates, which escape what they show
