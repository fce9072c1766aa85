from celery import shared_task

from ledger.api import Actor, access_context
from services.social_security.actions import unemployment_claim_assess
from services.social_security.models import UnemploymentClaim


@shared_task(ignore_result=True)
def unemployment_claim_assess_task(claim_id: int) -> None:
    """Assess one submitted unemployment benefit claim."""
    claim = UnemploymentClaim.objects.filter(pk=claim_id).first()
    if claim is None:
        return
    with access_context(
        actor=Actor(type="system", id="claims-assessor"),
        role="system",
        channel="task",
        purpose="benefit-administration",
    ):
        unemployment_claim_assess(claim=claim)
