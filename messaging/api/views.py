from django.shortcuts import render

from accounts import roles
from accounts.decorators import require


@require(roles.MANAGE_CREDENTIALS)
def key_list(request):
    return render(request, "api/key_list.html")
