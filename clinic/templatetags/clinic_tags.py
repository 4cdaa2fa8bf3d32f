from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def phone_link(number):
    """A phone number as a tap-to-call link: the digits (and a leading +) dialled, the
    number shown as written."""
    number = (number or "").strip()
    dialled = ("+" if number.startswith("+") else "") + "".join(
        ch for ch in number if ch.isdigit())
    if not dialled.strip("+"):
        return number
    return format_html('<a href="tel:{}">{}</a>', dialled, number)
