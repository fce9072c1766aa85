"""Give the resident's grants section its data through the grants selectors, which record the reads."""

from django import template

from cards.selectors import card_payment_list_for_resident
from services.grants.selectors import application_list_for_resident, programme_list_open

register = template.Library()


@register.simple_tag
def grants_overview(resident) -> dict:
    """Return the open programmes, the resident's applications and the payments credited to their card."""
    applications = application_list_for_resident(resident=resident)
    applied = {application.programme_id for application in applications}
    return {
        "programmes": [p for p in programme_list_open() if p.pk not in applied],
        "applications": applications,
        "payments": card_payment_list_for_resident(resident=resident),
    }
