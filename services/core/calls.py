"""What the gateway knows about one partner call, handed to selectors and actions."""

from dataclasses import dataclass

from services.core.models import Agency


@dataclass(frozen=True)
class AgencyCall:
    """One authorised call: who, under which scope, for which purpose, and whether consent is required."""

    agency: Agency
    scope: str | None
    purpose: str
    consent_required: bool = False
    case_id: str | None = None
