from functools import wraps

from django.core.exceptions import PermissionDenied

from accounts.roles import perm


def require(capability: str):
    """Refuse with 403 unless the user's role grants `capability` (login is already enforced
    by LoginRequiredMiddleware for every view not marked @login_not_required)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.has_perm(perm(capability)):
                raise PermissionDenied(f"Your role does not allow this ({capability}).")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
