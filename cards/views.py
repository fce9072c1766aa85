"""Public, unauthenticated endpoints for offline verifiers: the keys and the signed status lists."""

import json

from django.core.cache import cache
from django.http import HttpResponse
from django.views.decorators.http import require_GET

from cards.actions import status_list_token, token_status_list_token
from cards.credentials import card_type_metadata, jwt_vc_issuer_metadata, mdoc_iaca_pem
from cards.signing import jwks_document

# A reported-lost card reaches the published list within this many seconds.
STATUS_LIST_CACHE_SECONDS = 1


@require_GET
def jwks(request):
    """Publish the public keys that verify card credentials."""
    response = HttpResponse(json.dumps(jwks_document()), content_type="application/jwk-set+json")
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def status_list(request):
    """Publish the signed list of cards that must not verify, for offline verifiers."""
    token = cache.get("cards:status-list")
    if token is None:
        token = status_list_token()
        cache.set("cards:status-list", token, STATUS_LIST_CACHE_SECONDS)
    response = HttpResponse(token, content_type="application/jwt")
    response["Cache-Control"] = f"public, max-age={STATUS_LIST_CACHE_SECONDS}"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def jwt_vc_issuer(request):
    """Publish the SD-JWT VC issuer metadata: the issuer identifier and its JWKS."""
    response = HttpResponse(json.dumps(jwt_vc_issuer_metadata()), content_type="application/json")
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def token_status_list(request):
    """Publish the Token Status List (draft-ietf-oauth-status-list): 2 bits per card, signed."""
    token = cache.get("cards:token-status-list")
    if token is None:
        token = token_status_list_token()
        cache.set("cards:token-status-list", token, STATUS_LIST_CACHE_SECONDS)
    response = HttpResponse(token, content_type="application/statuslist+jwt")
    response["Cache-Control"] = f"public, max-age={STATUS_LIST_CACHE_SECONDS}"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def mdoc_iaca(request):
    """Publish the IACA certificate that mdoc readers trust (ISO/IEC 18013-5), in PEM."""
    response = HttpResponse(mdoc_iaca_pem(), content_type="application/x-pem-file")
    response["Cache-Control"] = "public, max-age=3600"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def card_type_metadata_document(request):
    """Publish the SD-JWT VC type metadata of the card at its vct URL, the same bytes every time."""
    response = HttpResponse(card_type_metadata(), content_type="application/json")
    response["Cache-Control"] = "public, max-age=86400"
    response["Access-Control-Allow-Origin"] = "*"
    return response
