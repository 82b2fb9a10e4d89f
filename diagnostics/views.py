from django.shortcuts import render

from accounts import roles
from accounts.decorators import require


@require(roles.RUN_DIAGNOSTICS)
def home(request):
    return render(request, "diagnostics/home.html")
