from django.shortcuts import render

from accounts import roles
from accounts.decorators import require


@require(roles.BROWSE)
def template_list(request):
    return render(request, "messaging/template_list.html")


@require(roles.BROWSE)
def message_list(request):
    return render(request, "messaging/message_list.html")


@require(roles.BROWSE)
def blacklist(request):
    return render(request, "messaging/blacklist.html")
