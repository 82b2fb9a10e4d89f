"""The public API at the site root, in the Graph API's URL shape: /v24.0/{phone_number_id}/messages.

Everything under /v<anything>/ is answered by one dispatcher (messaging.api.public), so unknown
paths and wrong methods get Graph-shaped errors too.
"""

from django.urls import re_path

from messaging.api import public

urlpatterns = [
    re_path(r"^v(?P<version>[^/]*)/(?P<rest>[\s\S]*)\Z", public.dispatch, name="public_api"),
    re_path(r"^v(?P<version>\d+\.\d+)\Z", public.dispatch),
]
