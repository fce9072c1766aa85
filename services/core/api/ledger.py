"""Auditor endpoints of the ledger, behind the gateway: entries and inclusion proofs."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from ledger.api import ProofUnavailable, entry_get, inclusion_proof
from services.core.api import problems
from services.core.api.base import GatewayAPIView
from services.core.declaration import CoreScope


class LedgerEntrySerializer(serializers.Serializer):
    index = serializers.IntegerField()
    entry_bytes = serializers.CharField(help_text="the canonical JSON of the entry, standard base64")
    salt = serializers.CharField(help_text="the 32 bytes that open the leaf's commitment, standard base64")
    leaf = serializers.CharField(
        help_text="the public leaf: 0x01 || SHA-256(domain || salt || entry_bytes) (docs/ledger.md), standard base64"
    )
    leaf_hash = serializers.CharField(help_text="SHA-256(0x00 || leaf), standard base64")


class InclusionQuerySerializer(serializers.Serializer):
    index = serializers.IntegerField(min_value=0)
    tree_size = serializers.IntegerField(min_value=1)


class InclusionProofSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    tree_size = serializers.IntegerField()
    leaf_hash = serializers.CharField()
    path = serializers.ListField(child=serializers.CharField(), help_text="RFC 9162 §2.1.3 audit path, base64")


class LedgerEntryView(GatewayAPIView):
    """Return one ledger entry's bytes and leaf hash."""

    required_scope = CoreScope.LEDGER_AUDIT

    @extend_schema(operation_id="ledger_entry_get", responses={200: LedgerEntrySerializer})
    def get(self, request, index: int):
        try:
            return Response(entry_get(index=index))
        except ProofUnavailable as error:
            raise problems.NotFound(str(error)) from None


class InclusionProofView(GatewayAPIView):
    """Return the RFC 9162 inclusion proof of one entry in the tree of a given size."""

    required_scope = CoreScope.LEDGER_AUDIT

    @extend_schema(
        operation_id="ledger_inclusion_proof",
        parameters=[
            OpenApiParameter("index", int, required=True),
            OpenApiParameter("tree_size", int, required=True),
        ],
        responses={200: InclusionProofSerializer},
    )
    def get(self, request):
        query = InclusionQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        try:
            return Response(inclusion_proof(**query.validated_data))
        except ProofUnavailable as error:
            raise problems.ProofUnavailable(str(error)) from None
