"""Probe every partner API operation, found in the OpenAPI schema (not listed by hand).

For each operation, called once with a valid key and purpose:
- no answer is a 5xx;
- an answer that concerns the visible resident (names them, or shows their data) has
  their ledger entries, read back sequenced;
- where the operation takes a national ID, a registered resident the partner may not
  see and a national ID nobody holds get the same status, problem type and detail,
  after the same number of database queries; where the partner may see every
  registered resident (no consent needed), naming one leaves an entry in their ledger.
"""

import base64
import datetime
import io
import itertools
import json
from dataclasses import dataclass, field

import private_set_intersection.python as psi
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from PIL import Image

from cards.actions import card_credential_sd_jwt_issue, resident_photo_set
from ledger.api import Actor, access_context, entry_list_for_subject
from ledger.sequencer import sequence
from services.core import catalogue
from services.grants import actions as grant_actions
from services.grants.models import Disbursement
from tests.cards.test_credentials import static_token
from tests.factories import ResidentFactory
from tests.factories.cards import CardFactory
from tests.factories.core import agency_with_key
from tests.factories.grants import ProgrammeFactory, apply, assess, caseworker, cycle_signed_off, staff, to_review
from tests.factories.health import hospital as hospital_factory
from tests.factories.health import visit
from tests.factories.pharmacy import DISPENSING, PHARMACY_SCOPES, otc_product, prescription, qr_token
from tests.factories.services import api, consent, contribute, employ, employer
from tests.idnumbers import make_national_id

pytestmark = pytest.mark.django_db

# The kind of agency that calls each scope's endpoints; an operation's scope comes from its view.
KIND_BY_SCOPE_PREFIX = {
    "health:visits:write": "hospital",
    "health:prescriptions:write": "hospital",
    "pharmacy:": "pharmacy",
    "cards:photo": "pharmacy",
    "social-security:employments": "employer",
    "social-security:contributions": "employer",
    "grants:disbursements": "bank",
    "ledger:": "auditor",
}
CHECK_PREDICATE = "insured_medical"
_keys = itertools.count()


def operations() -> list[tuple[str, str, str]]:
    """Return (method, path template, operation id) of every operation in the published schema."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [
        (method.upper(), path, operation["operationId"])
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    ]


def view_of(path: str):
    from django.urls import resolve

    return resolve(path).func.view_class


@dataclass
class World:
    visible: object
    hidden: object
    unregistered_id: str
    card: object
    hidden_card: object
    agencies: dict = field(default_factory=dict)
    extras: dict = field(default_factory=dict)

    def identifiers(self) -> list[str]:
        """Return strings that, in an answer, show the visible resident's data."""
        resident = self.visible
        found = [resident.national_id, resident.national_id_masked, resident.full_name, self.card.number]
        found += [str(c.receipt_id) for c in resident.consents.all()] if hasattr(resident, "consents") else []
        return [value for value in found if value]


def _scope_purpose(scope: str | None) -> tuple[str, str]:
    scope = scope or f"checks:{CHECK_PREDICATE.replace('_', '-')}"
    purpose = next(code for code in catalogue.purposes_all() if catalogue.purpose_allows_scope(code, scope))
    return scope, purpose


def _kind(scope: str) -> str:
    return next((kind for prefix, kind in KIND_BY_SCOPE_PREFIX.items() if scope.startswith(prefix)), "insurer")


def partner(world: World, view) -> tuple[object, str, str]:
    """Return (agency, key, purpose) of a partner allowed to call VIEW, with the visible resident's consent."""
    scope, purpose = _scope_purpose(view.required_scope)
    if scope == "cards:photo" and scope not in world.agencies:
        # The counter that sees the photo is the pharmacy that opened the session.
        agency, key = agency_with_key(kind="pharmacy", scopes=[*PHARMACY_SCOPES, scope], purposes=[DISPENSING, purpose])
        world.agencies[scope] = (agency, key, purpose)
    if scope not in world.agencies:
        kind = _kind(scope)
        # One pharmacy opens the session and dispenses in it.
        scopes = PHARMACY_SCOPES if kind == "pharmacy" else [scope]
        agency, key = agency_with_key(kind=kind, scopes=scopes, purposes=[purpose])
        for granted in scopes:
            consent(world.visible, agency, granted, purpose)
            world.agencies[granted] = (agency, key, purpose)
    return world.agencies[scope]


@pytest.fixture
def world() -> World:
    month = timezone.localdate().replace(day=1)
    visible, hidden = ResidentFactory(full_name="可见居民"), ResidentFactory(full_name="隐藏居民")
    card, hidden_card = CardFactory(resident=visible), CardFactory(resident=hidden)
    for resident in (visible, hidden):
        contribute(resident, employer(), month, 1, insurances=["medical"])
        visit(resident, hospital_factory())
    return World(
        visible=visible,
        hidden=hidden,
        unregistered_id=make_national_id(birth="19700101", sequence=991),
        card=card,
        hidden_card=hidden_card,
    )


def _id(world: World, who: str) -> str:
    return {"visible": world.visible.national_id, "hidden": world.hidden.national_id}.get(who, world.unregistered_id)


# How to call each operation: (path parameters, query, body) for the resident WHO ("visible", "hidden" or
# "unregistered"). An operation without a national ID ignores WHO. A new operation fails the probe until
# it is given a way to be called here.
def _agency_get(world, who, agency):
    return {}, {}, None


def _cards_verify(world, who, agency):
    return {}, {}, {"token": static_token(world.card)}


def _checks(world, who, agency):
    return {}, {}, {"national_id": _id(world, who), "predicates": [CHECK_PREDICATE]}


def _consents(world, who, agency):
    return {}, {}, None


def _disbursement(world, agency):
    if "disbursement" not in world.extras:
        programme = ProgrammeFactory(paying_agency=agency)
        application = assess(apply(programme, world.visible))
        to_review(application, caseworker("review_application"))
        approver = caseworker("approve_application")
        with staff(approver):
            grant_actions.application_approve(application=application, user=approver, reason="ok")
        cycle = cycle_signed_off(programme, creator=approver)
        with staff(purpose="grant-administration"):
            grant_actions.cycle_batch_run(cycle=cycle)
        world.extras["disbursement"] = Disbursement.objects.get(application=application)
        world.extras["programme"] = programme
    return world.extras["disbursement"]


def _disbursements_list(world, who, agency):
    _disbursement(world, agency)
    return {}, {}, None


def _disbursement_confirm(world, who, agency):
    reference = _disbursement(world, agency).reference
    return {"reference": reference}, {}, {"outcome": "paid", "bank_reference": "PROBE-1", "reason": ""}


def _eligibility(world, who, agency):
    programme = world.extras.get("programme") or ProgrammeFactory()
    world.extras["programme"] = programme
    return {}, {}, {"national_id": _id(world, who), "programme": programme.code}


def _national_id_only(world, who, agency):
    return {}, {}, {"national_id": _id(world, who)}


def _prescription_issue(world, who, agency):
    return (
        {},
        {},
        {
            "national_id": _id(world, who),
            "prescriber": "Dr. Probe",
            "drug_code": "86901234000012",
            "drug_name": "Metformin",
            "strength": "500 mg",
            "form": "tablet",
            "quantity": 30,
            "max_days_supply": 30,
            "valid_until": (timezone.localdate() + datetime.timedelta(days=30)).isoformat(),
        },
    )


def _visit_record(world, who, agency):
    body = {
        "national_id": _id(world, who),
        "visited_on": timezone.localdate().isoformat(),
        "icd10_code": "J06.9",
        "diagnosis": "Upper respiratory infection",
        "cost": "100.00",
    }
    return {}, {}, body


def _ledger_entry(world, who, agency):
    sequence()
    return {"index": 0}, {}, None


def _inclusion(world, who, agency):
    sequence()
    return {}, {"index": 0, "tree_size": 1}, None


def _session(world, agency):
    _agency, key, purpose = world.agencies["pharmacy:dispense"]
    response = api(key, purpose).post("/api/v1/pharmacy/sessions", {"token": qr_token(world.card)}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["session"]


def _staff_context():
    return access_context(
        actor=Actor(type="staff", id="probe"), role="registrar", channel="admin", purpose="registration"
    )


def _session_photo(world, who, agency):
    if "photo" not in world.extras:
        buffer = io.BytesIO()
        Image.new("RGB", (480, 640), (10, 120, 200)).save(buffer, format="JPEG")
        with _staff_context():
            world.extras["photo"] = resident_photo_set(resident=world.visible, data=buffer.getvalue())
    _agency, key, _purpose = world.agencies["cards:photo"]
    response = api(key, DISPENSING).post("/api/v1/pharmacy/sessions", {"token": qr_token(world.card)}, format="json")
    assert response.status_code == 201, response.content
    return {"session_id": response.json()["session"]}, {}, None


def _presentation(world, who, agency):
    if "sd_jwt" not in world.extras:
        with _staff_context():
            world.extras["sd_jwt"] = card_credential_sd_jwt_issue(card=world.card, insured=True)
    return {}, {}, {"presentation": world.extras["sd_jwt"]}


def _session_open(world, who, agency):
    return {}, {}, {"token": qr_token(world.card)}


def _dispense(world, who, agency):
    rx = prescription(world.visible, repeats_allowed=0, min_fill_interval_days=0)
    return {}, {}, {"session": _session(world, agency), "prescription": rx.pk, "quantity": 1, "price": "1.00"}


def _otc(world, who, agency):
    product = world.extras.get("otc") or otc_product()
    world.extras["otc"] = product
    return {}, {}, {"session": _session(world, agency), "product": product.code, "quantity": 1, "price": "1.00"}


def _contributions(world, who, agency):
    if not world.extras.get("employed"):
        employ(world.visible, agency, started_on=datetime.date(2010, 1, 1))
        employ(world.hidden, agency, started_on=datetime.date(2010, 1, 1))
        world.extras["employed"] = True
    shares = {"employer": "10.00", "employee": "5.00"}
    item = {
        "national_id": _id(world, who),
        "month": timezone.localdate().strftime("%Y-%m"),
        "base": "8000.00",
        "contributions": {"pension": shares},
    }
    return {}, {}, [item]


def _employments(world, who, agency):
    return {}, {}, [{"national_id": _id(world, who), "started_on": "2020-01-01"}]


def _residents_verify(world, who, agency):
    return {}, {}, {"national_id": _id(world, who), "full_name": "可见居民"}


def _statement(world, who, agency):
    return {}, {}, {"national_id": _id(world, who), "format": "json"}


def _statistics_publish(world, who, agency):
    # A month surely closed: the one before last. Counting residents names none of them in the answer.
    month = (timezone.localdate().replace(day=1) - datetime.timedelta(days=32)).strftime("%Y-%m")
    return {}, {}, {"table": "residents", "period": month}


def _matching_partner(world, agency):
    """Return the partner's PSI server over the visible resident's ID, granting AGENCY the active-card set."""
    if "matching" not in world.extras:
        from services.core.actions import agency_grants_set
        from services.core.selectors import agency_purposes, agency_scopes

        scopes = (*agency_scopes(agency=agency), "matching:active-card")
        agency_grants_set(agency=agency, scopes=scopes, purposes=tuple(agency_purposes(agency=agency)))
        world.extras["matching"] = psi.server.CreateWithNewKey(True)
    return world.extras["matching"]


def _matching_setup(world, agency) -> dict:
    server = _matching_partner(world, agency)
    setup = server.CreateSetupMessage(0.0, 1, [world.visible.national_id], psi.DataStructure.RAW)
    return {"set": "active-card", "setup": base64.b64encode(setup.SerializeToString()).decode()}


def _matching_response(world, agency, step: dict) -> dict:
    request = psi.Request()
    request.ParseFromString(base64.b64decode(step["request"]))
    response = _matching_partner(world, agency).ProcessRequest(request)
    return {"response": base64.b64encode(response.SerializeToString()).decode()}


def _matching_started(world, agency) -> dict:
    _agency, key, purpose = world.agencies["checks:insured-medical"]
    response = api(key, purpose).post(
        "/api/v1/matching/sessions",
        _matching_setup(world, agency),
        format="json",
        HTTP_IDEMPOTENCY_KEY=f"probe-{next(_keys)}",
    )
    assert response.status_code in (200, 201), response.content
    return response.json()


def _matching_start(world, who, agency):
    return {}, {}, _matching_setup(world, agency)


def _matching_chunk(world, who, agency):
    step = _matching_started(world, agency)
    return {"session_id": step["session"], "number": 0}, {}, _matching_response(world, agency, step)


def _matching_answer(world, who, agency):
    step = _matching_started(world, agency)
    _agency, key, purpose = world.agencies["checks:insured-medical"]
    answered = api(key, purpose).post(
        f"/api/v1/matching/sessions/{step['session']}/chunks/0",
        _matching_response(world, agency, step),
        format="json",
        HTTP_IDEMPOTENCY_KEY=f"probe-{next(_keys)}",
    )
    assert answered.status_code == 200, answered.content
    request = psi.client.CreateWithNewKey(True).CreateRequest([world.visible.national_id])
    return {"session_id": step["session"]}, {}, {"request": base64.b64encode(request.SerializeToString()).decode()}


CALLS = {
    "agency_get": _agency_get,
    "cards_verify": _cards_verify,
    "cards_presentations_verify": _presentation,
    "checks_evaluate": _checks,
    "consents_list": _consents,
    "grants_disbursements_list": _disbursements_list,
    "grants_disbursement_confirm": _disbursement_confirm,
    "grants_eligibility_check": _eligibility,
    "health_coverage": _national_id_only,
    "health_prescriptions_issue": _prescription_issue,
    "health_visits_record": _visit_record,
    "health_visits_query": _national_id_only,
    "ledger_entry_get": _ledger_entry,
    "ledger_inclusion_proof": _inclusion,
    "pharmacy_dispensations_create": _dispense,
    "pharmacy_otc_dispensations_create": _otc,
    "pharmacy_sessions_open": _session_open,
    "pharmacy_sessions_holder": _session_photo,
    "pharmacy_sessions_photo": _session_photo,
    "residents_verify": _residents_verify,
    "social_security_claims_query": _national_id_only,
    "social_security_contributions_report": _contributions,
    "social_security_employments_report": _employments,
    "social_security_statement": _statement,
    "statistics_release_publish": _statistics_publish,
    "matching_session_start": _matching_start,
    "matching_chunk_answer": _matching_chunk,
    "matching_session_answer": _matching_answer,
}


def call(world: World, method: str, template: str, operation_id: str, who: str, *, replay: bool = False):
    """Call the operation for WHO (REPLAY: again, with the last call's key); return (response, request, queries)."""
    no_uuid = "00000000-0000-0000-0000-000000000000"
    view = view_of(
        template.replace("{index}", "0")
        .replace("{reference}", no_uuid)
        .replace("{session_id}", no_uuid)
        .replace("{number}", "0")
    )
    agency, key, purpose = partner(world, view)
    if replay:
        params, query, body, idempotency_key = world.extras["last"]
    else:
        params, query, body = CALLS[operation_id](world, who, agency)
        idempotency_key = f"probe-{next(_keys)}"
        world.extras["last"] = (params, query, body, idempotency_key)
    path = template.format(**params)
    client = api(key, purpose)
    headers = {"HTTP_IDEMPOTENCY_KEY": idempotency_key} if method == "POST" else {}
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, query) if method == "GET" else client.post(path, body, format="json", **headers)
    return response, json.dumps(body, ensure_ascii=False) + path, len(queries)


def entries_of(resident) -> int:
    sequence()
    return len(entry_list_for_subject(subject=resident, limit=10_000))


NATIONAL_ID_CALLS = {
    name
    for name, function in CALLS.items()
    if function
    in (
        _checks,
        _eligibility,
        _national_id_only,
        _prescription_issue,
        _visit_record,
        _contributions,
        _employments,
        _residents_verify,
        _statement,
    )
}


def test_every_operation_in_the_schema_can_be_probed():
    assert {operation_id for _method, _path, operation_id in operations()} == set(CALLS)


def test_no_operation_shows_resident_data_without_its_ledger_entries(world):
    failures = []
    for method, template, operation_id in operations():
        before = entries_of(world.visible)
        response, request_text, _queries = call(world, method, template, operation_id, "visible")
        text = response.content.decode(errors="replace")
        if response.status_code >= 500:
            failures.append(f"{operation_id}: {response.status_code} {text[:200]}")
            continue
        names_resident = world.visible.national_id in request_text or operation_id.startswith(("pharmacy", "cards"))
        shows_resident = any(value in text for value in world.identifiers())
        concerned = names_resident or shows_resident
        if 200 <= response.status_code < 300 and concerned and entries_of(world.visible) <= before:
            failures.append(f"{operation_id}: {response.status_code} with no ledger entry for the resident")
        if method == "POST" and concerned:
            # The answer replayed for a repeated Idempotency-Key shows the same data: it is recorded too.
            before = entries_of(world.visible)
            replayed, _request, _queries = call(world, method, template, operation_id, "visible", replay=True)
            if replayed.content == response.content and entries_of(world.visible) <= before:
                failures.append(f"{operation_id}: replayed with no ledger entry for the resident")
    assert failures == []


def _problem(response) -> tuple:
    body = response.json() if response["Content-Type"].endswith("json") else {}
    return response.status_code, body.get("type"), body.get("detail")


def test_no_operation_tells_a_hidden_resident_from_an_unregistered_id(world):
    failures = []
    for method, template, operation_id in operations():
        if operation_id not in NATIONAL_ID_CALLS:
            continue
        hidden_before = entries_of(world.hidden)
        hidden, _text, hidden_queries = call(world, method, template, operation_id, "hidden")
        unregistered, _text, unregistered_queries = call(world, method, template, operation_id, "unregistered")
        for response in (hidden, unregistered):
            if response.status_code >= 500:
                failures.append(f"{operation_id}: {response.status_code}")
        if 200 <= hidden.status_code < 300:
            # No consent needed: the partner may see every registered resident, so naming one is on their record.
            if entries_of(world.hidden) <= hidden_before:
                failures.append(f"{operation_id}: the resident named has no entry")
            continue
        if _problem(hidden) != _problem(unregistered):
            failures.append(f"{operation_id}: hidden {_problem(hidden)} != unregistered {_problem(unregistered)}")
        elif hidden_queries != unregistered_queries:
            failures.append(f"{operation_id}: {hidden_queries} queries for hidden, {unregistered_queries} unregistered")
    assert failures == []
