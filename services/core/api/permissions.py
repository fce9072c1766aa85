"""Check scope, purpose and case id once for every gateway endpoint."""

import re

from rest_framework.permissions import BasePermission

from services.core import catalogue
from services.core.api import problems
from services.core.api.authentication import AgencyPrincipal
from services.core.calls import AgencyCall
from services.core.selectors import agency_purposes, agency_scopes

CASE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$")


class AgencyCallPermission(BasePermission):
    """Allow a call when the agency holds the view's scope and names a purpose allowed for it.

    Views declare ``required_scope`` (None: any authenticated agency) and
    ``consent_required`` (None: as the scope says in the catalogue). On success
    the call is attached to the request as ``request.agency_call``.
    """

    def has_permission(self, request, view) -> bool:
        if not isinstance(request.user, AgencyPrincipal):
            return False
        agency = request.user.agency
        purpose = request.headers.get("X-Purpose", "").strip()
        if not purpose:
            raise problems.PurposeRequired("name the purpose of this call in the X-Purpose header")
        scope = getattr(view, "required_scope", None)
        if scope and scope not in agency_scopes(agency=agency):
            raise problems.ScopeMissing(f"this endpoint needs the scope {scope}, which {agency.code} does not hold")
        if purpose not in catalogue.purposes_all():
            raise problems.PurposeNotAllowed(f"{purpose!r} is not a registered purpose")
        if purpose not in agency_purposes(agency=agency):
            raise problems.PurposeNotAllowed(f"{agency.code} may not make calls for the purpose {purpose}")
        if scope and not catalogue.purpose_allows_scope(purpose, scope):
            raise problems.PurposeNotAllowed(f"the purpose {purpose} does not allow the scope {scope}")
        case_id = request.headers.get("X-Case-Id", "").strip() or None
        if case_id is not None and not CASE_ID.match(case_id):
            raise problems.CaseIdInvalid(
                "X-Case-Id must be 1 to 64 letters, digits or . _ : / -, starting with a letter or digit"
            )
        consent_required = getattr(view, "consent_required", None)
        if consent_required is None:
            declared = catalogue.scopes_all().get(scope) if scope else None
            consent_required = bool(declared and declared.consent_required)
        request.agency_call = AgencyCall(
            agency=agency, scope=scope, purpose=purpose, consent_required=consent_required, case_id=case_id
        )
        return True
