from django.shortcuts import render

from accounts import roles
from accounts.decorators import require


@require(roles.BROWSE)
def contact_list(request):
    return render(request, "consent/contact_list.html")
