"""Text people type, as the database can keep it.

Nobody means to type a NUL character; it comes pasted from another program, and PostgreSQL
cannot store it in text. Every form's text field refuses it beside the field (Django's
CharField does, with its ProhibitNullCharactersValidator); text that reaches a service from
a plain form box is checked here, with the same message.
"""

from django.utils.translation import gettext_lazy as _

NUL_REFUSED = _("This text holds a NUL character, which cannot be stored. It usually comes "
                "from pasting: remove it, or type the text again.")



def typed_text_storable(text):
    """Whether the database can keep this text as it is."""
    return "\x00" not in (text or "")
