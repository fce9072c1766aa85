"""OpenID for Verifiable Credential Issuance 1.0 endpoints: metadata, token, nonce, credential, and the offer page.

The protocol's checks live in cards/oid4vci.py and the writes in cards/actions.py;
the endpoints are here because a credential says whether the holder is insured,
which the health service knows.
"""

import json

from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cards import oid4vci
from cards.actions import (
    CREDENTIAL_OFFER_LIFETIME,
    card_credential_oid4vci_issue,
    credential_nonce_create,
    credential_offer_card,
    credential_offer_create,
    credential_offer_redeem,
)
from cards.errors import CardTransitionRefused, IssuanceRefused
from cards.images import qr_svg
from cards.models import Card
from cards.selectors import card_get_for_user
from ledger.api import Actor, access_context, subject_pseudonym
from portal.web.access import RESIDENT_PURPOSE, resident_required
from services.health.coverage import coverage_on

CONFIGURATIONS = (oid4vci.SD_JWT_CONFIGURATION, oid4vci.MDOC_CONFIGURATION)


def _json(document: dict, *, status: int = 200, cache: str = "no-store") -> JsonResponse:
    response = JsonResponse(document, status=status, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = cache
    return response


def _refused(error: IssuanceRefused) -> JsonResponse:
    """Answer with the OAuth error JSON (RFC 6749 5.2, OpenID4VCI 8.3.1.2); invalid_token as RFC 6750 says."""
    response = _json({"error": error.error, "error_description": error.description}, status=error.status)
    if error.error == "invalid_token":
        response["WWW-Authenticate"] = f'Bearer error="invalid_token", error_description="{error.description}"'
    return response


@require_GET
def credential_issuer_metadata(request):
    """Publish the Credential Issuer Metadata."""
    response = _json(oid4vci.credential_issuer_metadata(), cache="public, max-age=300")
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def authorization_server_metadata(request):
    """Publish the OAuth Authorization Server Metadata of the pre-authorized code flow."""
    response = _json(oid4vci.authorization_server_metadata(), cache="public, max-age=300")
    response["Access-Control-Allow-Origin"] = "*"
    return response


@csrf_exempt
@require_POST
def token(request):
    """Exchange a pre-authorized code for an access token (the wallet is an anonymous public client)."""
    if request.POST.get("grant_type") != oid4vci.PRE_AUTHORIZED_GRANT:
        return _refused(IssuanceRefused("unsupported_grant_type", "only the pre-authorized code grant is supported"))
    code = request.POST.get("pre-authorized_code", "")
    if not code:
        return _refused(IssuanceRefused("invalid_request", "pre-authorized_code is missing"))
    try:
        access_token, lifetime = credential_offer_redeem(code=code)
    except IssuanceRefused as error:
        return _refused(error)
    return _json({"access_token": access_token, "token_type": "Bearer", "expires_in": lifetime})


@csrf_exempt
@require_POST
def nonce(request):
    """Give a fresh c_nonce for the wallet's next key proof."""
    return _json({"c_nonce": credential_nonce_create()})


def _proof(body: dict) -> str:
    proofs = body.get("proofs")
    if proofs is not None:
        jwts = proofs.get("jwt") if isinstance(proofs, dict) and set(proofs) == {"jwt"} else None
        if not (isinstance(jwts, list) and len(jwts) == 1 and isinstance(jwts[0], str)):
            raise IssuanceRefused("invalid_credential_request", "proofs must hold exactly one jwt proof")
        return jwts[0]
    raise IssuanceRefused("invalid_credential_request", "the request needs proofs with one jwt key proof")


@csrf_exempt
@require_POST
def credential(request):
    """Issue the resident's credential, bound to the key the wallet proved it holds."""
    scheme, _, access_token = request.headers.get("Authorization", "").partition(" ")
    try:
        if scheme.lower() != "bearer" or not access_token.strip():
            raise IssuanceRefused("invalid_token", "a Bearer access token is required", status=401)
        card = credential_offer_card(access_token=access_token.strip())
        try:
            body = json.loads(request.body or b"")
        except ValueError:
            raise IssuanceRefused("invalid_credential_request", "the body must be JSON") from None
        if not isinstance(body, dict):
            raise IssuanceRefused("invalid_credential_request", "the body must be a JSON object")
        configuration = body.get("credential_configuration_id")
        if configuration not in CONFIGURATIONS:
            raise IssuanceRefused("unknown_credential_configuration", "no such credential_configuration_id")
        try:
            holder_jwk, proof_nonce = oid4vci.proof_jwt_check(_proof(body))
        except oid4vci.ProofInvalid as error:
            raise IssuanceRefused(error.error, error.description) from None
        with access_context(
            actor=Actor(type="resident", id=subject_pseudonym(card.resident)),
            role="resident",
            channel="web",
            purpose=RESIDENT_PURPOSE,
        ):
            insured = coverage_on(resident=card.resident, on=timezone.localdate()).covered
            issued = card_credential_oid4vci_issue(
                card=card, configuration=configuration, holder_jwk=holder_jwk, nonce=proof_nonce, insured=insured
            )
    except IssuanceRefused as error:
        return _refused(error)
    return _json({"credentials": [{"credential": issued}]})


@never_cache
@require_http_methods(["GET", "POST"])
@resident_required(proxy=False)  # a wallet holds the holder's own card: no proxy may bind it to theirs
def wallet_offer(request):
    """Let the resident add their card to a wallet app: a one-use offer as a QR code and a link."""
    held = card_get_for_user(user=request.user)
    context = {"card": held, "offer_uri": None, "minutes": int(CREDENTIAL_OFFER_LIFETIME.total_seconds() // 60)}
    if request.method == "POST" and held is not None and held.status == Card.Status.ACTIVE:
        try:
            code = credential_offer_create(card=held)
        except CardTransitionRefused:
            pass
        else:
            context["offer_uri"] = oid4vci.credential_offer_uri(code)
            context["offer_svg"] = qr_svg(context["offer_uri"])
    return render(request, "portal/me/wallet_offer.html", context)
