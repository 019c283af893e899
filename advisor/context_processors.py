def notices(request):
    """The number of unread notices, for the navigation bar (one query, signed-in users only)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notices": user.notices.filter(read_at__isnull=True).count()}
