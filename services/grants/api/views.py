"""The partner endpoints of grants: eligibility checks, and the paying bank's disbursement list and confirmations."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.response import Response

from services.core.api import problems
from services.core.api.base import GatewayAPIView
from services.core.api.pagination import GatewayCursorPagination
from services.grants.actions import disbursement_confirm
from services.grants.api.serializers import (
    ConfirmationRequestSerializer,
    ConfirmationSerializer,
    DisbursementSerializer,
    EligibilityRequestSerializer,
    EligibilitySerializer,
)
from services.grants.declaration import GrantsScope
from services.grants.errors import ApplicationInvalid, DisbursementConflict, DisbursementUnknown
from services.grants.models import Disbursement, Programme
from services.grants.rules import programme_rules
from services.grants.selectors import (
    disbursement_list_record,
    disbursement_queryset_for_agency,
    eligibility_check_for_partner,
)

ProgrammeUnknown = problems.problem_define("grant-programme-unknown", 404, _("No grant programme has this code"))
problems.problem_define(
    "disbursement-unknown",
    404,
    _("No disbursement paid by this agency has this reference"),
    domain_errors=(DisbursementUnknown,),
)
problems.problem_define(
    "disbursement-conflict",
    409,
    _("The disbursement was already confirmed with another outcome"),
    domain_errors=(DisbursementConflict,),
)
problems.problem_define("grant-invalid", 400, _("The grant request is not valid"), domain_errors=(ApplicationInvalid,))


class EligibilityView(GatewayAPIView):
    """Check a resident against a programme's eligibility rules: one yes/no per rule, nothing else."""

    required_scope = GrantsScope.ELIGIBILITY_READ

    @extend_schema(
        operation_id="grants_eligibility_check",
        request=EligibilityRequestSerializer,
        responses={200: EligibilitySerializer},
        examples=[
            OpenApiExample(
                "Check",
                value={"national_id": "11010519900307123X", "programme": "winter-heating", "declared_income": "2500"},
                request_only=True,
            )
        ],
    )
    def post(self, request):
        form = EligibilityRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        programme = Programme.objects.filter(code=form.validated_data["programme"]).first()
        if programme is None:
            raise ProgrammeUnknown()
        results = eligibility_check_for_partner(
            national_id=form.validated_data["national_id"],
            programme=programme,
            declared_income=form.validated_data.get("declared_income"),
            call=self.call,
        )
        # An unregistered resident is answered "no" throughout, so the answer never tells who is registered.
        answers = (
            [{"rule": rule, "passed": False} for rule in programme_rules(programme)]
            if results is None
            else [{"rule": result.rule, "passed": result.passed} for result in results]
        )
        eligible = results is not None and all(answer["passed"] for answer in answers)
        return Response({"programme": programme.code, "eligible": eligible, "rules": answers})


class OldestFirstPagination(GatewayCursorPagination):
    ordering = "id"


class DisbursementListView(GatewayAPIView, ListAPIView):
    """The disbursements scheduled for payment by the calling bank, oldest first, a page at a time."""

    required_scope = GrantsScope.DISBURSEMENTS
    consent_required = False
    serializer_class = DisbursementSerializer
    pagination_class = OldestFirstPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Disbursement.objects.none()
        return disbursement_queryset_for_agency(call=self.call)

    def paginate_queryset(self, queryset):
        return disbursement_list_record(disbursements=super().paginate_queryset(queryset))

    @extend_schema(operation_id="grants_disbursements_list")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class DisbursementConfirmView(GatewayAPIView):
    """Confirm one disbursement paid onto the card, or failed; needs an Idempotency-Key and replays it."""

    required_scope = GrantsScope.DISBURSEMENTS
    consent_required = False
    idempotency_required = True

    @extend_schema(
        operation_id="grants_disbursement_confirm",
        request=ConfirmationRequestSerializer,
        responses={200: ConfirmationSerializer},
        examples=[
            OpenApiExample("Paid", value={"outcome": "paid", "bank_reference": "BOC-20260301-0001"}, request_only=True)
        ],
    )
    def post(self, request, reference):
        form = ConfirmationRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        disbursement = disbursement_confirm(
            reference=reference,
            agency=self.call.agency,
            outcome=form.validated_data["outcome"],
            bank_reference=form.validated_data["bank_reference"],
            reason=form.validated_data["reason"],
        )
        return Response(
            {
                "reference": str(disbursement.reference),
                "status": disbursement.status,
                "confirmed_at": disbursement.confirmed_at,
            }
        )
