from django.shortcuts import redirect, render

from accounts import roles
from accounts.decorators import require


def home(request):
    if request.user.has_perm(roles.perm(roles.BROWSE)):
        return redirect("consent:contact_list")
    return render(request, "home.html")


@require(roles.MANAGE_CREDENTIALS)
def overview(request):
    return render(request, "accounts/overview.html")


@require(roles.BROWSE)
def alert_list(request):
    return render(request, "accounts/alert_list.html")
