from django import template

register = template.Library()


@register.filter
def minutes(delta) -> int:
    """Return a timedelta as whole minutes, rounded up."""
    if delta is None:
        return 0
    return -(-int(delta.total_seconds()) // 60)
