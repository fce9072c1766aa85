"""Private matching: a partner learns which of its national IDs are in a OneCard set, and nothing else.

Three steps, each a POST with an Idempotency-Key; docs/matching.md explains the protocol:

1. ``POST /api/v1/matching/sessions`` with the set and the partner's blinded list:
   answers with the session and chunk 0 of OneCard's blinded set.
2. ``POST /api/v1/matching/sessions/<id>/chunks/<n>`` with the partner's answer to chunk n:
   answers with chunk n + 1, or ``"chunk": null`` after the last.
3. ``POST /api/v1/matching/sessions/<id>/answer`` with the partner's blinded request:
   records one ledger entry per resident found and answers with what lets the partner find them in its list.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response

from services.core.api import problems
from services.core.api.base import GatewayAPIView
from services.matching.actions import (
    ChunkRequest,
    matching_chunk_answer,
    matching_session_answer,
    matching_session_start,
)
from services.matching.api.serializers import (
    AnswerRequestSerializer,
    AnswerSerializer,
    ChunkAnswerSerializer,
    ChunkSerializer,
    SessionStartSerializer,
)
from services.matching.errors import (
    ListTooLarge,
    MessageInvalid,
    QuotaExceeded,
    SessionOutOfStep,
    SessionUnknown,
    SetNotAllowed,
    SetUnknown,
)

problems.problem_define(
    "matching-set-unknown",
    400,
    _("The set is not one OneCard offers for matching, or its argument is malformed"),
    domain_errors=(SetUnknown,),
)
problems.problem_define(
    "matching-set-not-allowed",
    403,
    _("The agency may not match against this set for this purpose"),
    domain_errors=(SetNotAllowed,),
)
problems.problem_define(
    "matching-message-invalid",
    400,
    _("A protocol message is malformed or does not fit the session"),
    domain_errors=(MessageInvalid,),
)
problems.problem_define(
    "matching-list-too-large",
    400,
    _("The list has more IDs than one matching call accepts"),
    domain_errors=(ListTooLarge,),
)
problems.problem_define(
    "matching-quota-exceeded",
    429,
    _("The agency has matched as many IDs today as it may"),
    domain_errors=(QuotaExceeded,),
)
problems.problem_define(
    "matching-session-unknown",
    # 409 like the pharmacy's unknown session: the address is right, the session is not (or no longer) open.
    409,
    _("No open matching session of this agency and purpose has this id"),
    domain_errors=(SessionUnknown,),
)
problems.problem_define(
    "matching-session-out-of-step",
    409,
    _("The matching session expects another step"),
    domain_errors=(SessionOutOfStep,),
)


def _chunk_body(step: ChunkRequest) -> dict:
    session = step.session
    return {
        "session": str(session.pk),
        "set_size": session.set_size,
        "chunks": session.chunks,
        "chunk": step.number,
        "request": step.request,
        "expires_at": session.expires_at.isoformat(),
    }


class _MatchingView(GatewayAPIView):
    # Each set names its scope; the agency must hold it and its purpose allow it, at every step.
    required_scope = None
    consent_required = False
    idempotency_required = True


class SessionStartView(_MatchingView):
    """Start matching the partner's blinded list against a OneCard set."""

    @extend_schema(
        operation_id="matching_session_start",
        request=SessionStartSerializer,
        responses={201: ChunkSerializer},
        examples=[
            OpenApiExample(
                "A bank matching its customers against active cards",
                value={"set": "active-card", "setup": "GgoKIQ…"},
                request_only=True,
            ),
        ],
    )
    def post(self, request):
        serializer = SessionStartSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        step = matching_session_start(
            set_text=serializer.validated_data["set"], setup_text=serializer.validated_data["setup"], call=self.call
        )
        return Response(_chunk_body(step), status=status.HTTP_201_CREATED)


class ChunkAnswerView(_MatchingView):
    """Take the partner's answer to one chunk of OneCard's blinded set; return the next chunk."""

    @extend_schema(
        operation_id="matching_chunk_answer",
        request=ChunkAnswerSerializer,
        responses={200: ChunkSerializer},
        parameters=[
            OpenApiParameter(
                "number",
                {"type": "integer", "minimum": 0},
                OpenApiParameter.PATH,
                description="The chunk answered: the 'chunk' of the previous step",
            )
        ],
    )
    def post(self, request, session_id, number):
        serializer = ChunkAnswerSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        step = matching_chunk_answer(
            session_id=session_id, number=number, response_text=serializer.validated_data["response"], call=self.call
        )
        return Response(_chunk_body(step))


class AnswerView(_MatchingView):
    """Record one ledger entry per resident found and let the partner find them, and only them, in its list."""

    @extend_schema(
        operation_id="matching_session_answer", request=AnswerRequestSerializer, responses={200: AnswerSerializer}
    )
    def post(self, request, session_id):
        serializer = AnswerRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        setup, response = matching_session_answer(
            session_id=session_id, request_text=serializer.validated_data["request"], call=self.call
        )
        return Response({"setup": setup, "response": response})
