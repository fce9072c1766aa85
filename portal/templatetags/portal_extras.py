from django import template

register = template.Library()


@register.filter
def minutes(delta) -> int:
    """Return a timedelta as whole minutes, rounded up."""
    if delta is None:
        return 0
    return -(-int(delta.total_seconds()) // 60)


@register.filter
def nav_section(url_name: str | None) -> str:
    """Return the main-navigation entry a portal page belongs to: the first word of its URL name."""
    first = (url_name or "").split("-", 1)[0]
    return "consent" if first == "consents" else first
