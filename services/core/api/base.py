"""The base class of every partner endpoint.

Declare what an endpoint needs; the base class enforces it once::

    class CardVerifyView(GatewayAPIView):
        required_scope = "cards:verify"   # None: any authenticated agency
        consent_required = False          # None (default): as the scope says in the catalogue

        def post(self, request):
            serializer = CardVerifyRequestSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            result = card_token_verify(token=serializer.validated_data["token"])  # records to the ledger
            return Response(CardVerifyResponseSerializer(asdict(result)).data)

Before the handler runs the agency is authenticated from its Bearer key, the
X-Purpose header is checked against the agency's grants and the scope, the
agency's rate limit is applied, and a ledger access context is open with the
agency as actor, so every selector reached records under this agency, purpose
and case. A POST with an Idempotency-Key is answered once and replayed after;
``idempotency_required = True`` refuses a POST without one (428).

A replay passes every check a first call passes (key, rate limit, purpose,
scope), checks again each consent the first answer relied on, and records the
accesses the first call recorded, before the stored answer is served. The
stored answer and those accesses are sealed at rest (AES-256-GCM).
"""

import contextlib
import hashlib
import json
import re

from django.http import HttpResponse
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from ledger.api import Actor, access_context, accesses_collected
from services.core.actions import idempotent_request_claim, idempotent_request_complete, idempotent_request_release
from services.core.api import problems
from services.core.calls import AgencyCall
from services.core.selectors import consents_relied_on, idempotent_replay_authorise, idempotent_response_open

IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class _Replay(Exception):
    def __init__(self, response: HttpResponse) -> None:
        self.response = response


class GatewayAPIView(APIView):
    """A partner endpoint: authenticated, purpose-bound, consent-aware, throttled, recorded, idempotent."""

    required_scope: str | None = None
    consent_required: bool | None = None
    idempotency_required: bool = False
    pagination_class = api_settings.DEFAULT_PAGINATION_CLASS

    _context_stack: contextlib.ExitStack | None = None
    _idempotent_claim = None
    _accesses: list[dict] | None = None
    _consents: list[dict] | None = None

    @property
    def call(self) -> AgencyCall:
        """Return the authorised call, for selectors and actions."""
        return self.request.agency_call

    def initial(self, request, *args, **kwargs) -> None:
        # Throttle before the permission check runs its queries, and after
        # authentication so the limit is per agency.
        self.format_kwarg = self.get_format_suffix(**kwargs)
        neg = self.perform_content_negotiation(request)
        request.accepted_renderer, request.accepted_media_type = neg
        version, scheme = self.determine_version(request, *args, **kwargs)
        request.version, request.versioning_scheme = version, scheme
        self.perform_authentication(request)
        self.check_throttles(request)
        self.check_permissions(request)
        self._context_open(request)
        if request.method == "POST":
            self._idempotency_claim(request)

    def _context_open(self, request) -> None:
        call: AgencyCall = request.agency_call
        request_id = request.headers.get("X-Request-Id", "")
        self._context_stack = contextlib.ExitStack()
        self._context_stack.enter_context(
            access_context(
                actor=Actor(type="agency", id=call.agency.code),
                role=call.agency.kind,
                channel="api",
                purpose=call.purpose,
                request_id=request_id if REQUEST_ID.match(request_id) else None,
                case_id=call.case_id,
            )
        )

    def _idempotency_claim(self, request) -> None:
        key = request.headers.get("Idempotency-Key")
        if key is None:
            if self.idempotency_required:
                raise problems.IdempotencyKeyRequired("send an Idempotency-Key header, so a retry never acts twice")
            return
        if not IDEMPOTENCY_KEY.match(key):
            raise problems.IdempotencyKeyInvalid("Idempotency-Key must be 1 to 255 printable ASCII characters")
        call: AgencyCall = request.agency_call
        claimed, first = idempotent_request_claim(
            agency=call.agency,
            key=key,
            method=request.method,
            path=request.path,
            fingerprint=_fingerprint(request.body, purpose=call.purpose, case_id=call.case_id),
        )
        if first:
            self._idempotent_claim = claimed
            # Note what the first call records and which consents it relies on, for its replays.
            self._accesses = self._context_stack.enter_context(accesses_collected())
            self._consents = self._context_stack.enter_context(consents_relied_on())
            return
        stored = idempotent_response_open(idempotent=claimed)
        idempotent_replay_authorise(accesses=stored.accesses, consents=stored.consents, call=call)
        replay = HttpResponse(stored.body, status=claimed.status_code, content_type=claimed.content_type)
        replay["Idempotent-Replayed"] = "true"
        raise _Replay(replay)

    def handle_exception(self, exc):
        if isinstance(exc, _Replay):
            return exc.response
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        try:
            claimed, self._idempotent_claim = self._idempotent_claim, None
            if claimed is not None:
                if response.status_code >= 500:
                    idempotent_request_release(claimed=claimed)
                else:
                    if hasattr(response, "render"):
                        response.render()
                    idempotent_request_complete(
                        claimed=claimed,
                        status_code=response.status_code,
                        content_type=response.get("Content-Type", ""),
                        body=response.content,
                        accesses=self._accesses or [],
                        consents=self._consents or [],
                    )
            self._accesses = self._consents = None
        finally:
            if self._context_stack is not None:
                self._context_stack.close()
                self._context_stack = None
        return response


def _fingerprint(body: bytes, *, purpose: str, case_id: str | None) -> str:
    """Hash what a call asks and why: its purpose, case id and body, ignoring JSON key order and whitespace."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, UnicodeDecodeError, RecursionError):
        canonical = body
    digest = hashlib.sha256()
    for part in (purpose.encode(), (case_id or "").encode(), canonical):
        # Length-prefixed, so no two different (purpose, case id, body) give the same input.
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()
