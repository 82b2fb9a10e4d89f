from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode

register = template.Library()


@register.simple_tag
def diagnose_url(code, subcode=None):
    """Link to the diagnosis of an error code; empty while the diagnostics page does not exist."""
    if code is None:
        return ""
    try:
        url = reverse("diagnostics:diagnose")
    except NoReverseMatch:
        return ""
    params = {"code": code}
    if subcode:
        params["subcode"] = subcode
    return f"{url}?{urlencode(params)}"
