"""Template tags that give portal pages the signed-in resident's prescriptions and purchases, through selectors."""

from django import template

from services.pharmacy.selectors import dispensation_list_for_resident, prescription_fills_for_resident

register = template.Library()


@register.simple_tag(takes_context=True)
def pharmacy_overview(context) -> dict | None:
    """Return the resident's prescriptions with remaining fills and their purchases; both reads are recorded."""
    request = context.get("request")
    resident = getattr(request, "resident", None)
    if resident is None:
        return None
    return {
        "prescriptions": prescription_fills_for_resident(resident=resident),
        "purchases": dispensation_list_for_resident(resident=resident),
    }
