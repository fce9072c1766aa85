"""Sealed accesses: counted in the resident's log at once, their details withheld until their date, then shown."""

import base64
import datetime
import json
from pathlib import Path

import pytest
from django.core import mail
from django.utils import timezone

from ledger import sealing
from ledger.api import SealRefused, access_seal, log_seal, subject_pseudonym
from ledger.context import Actor, access_context
from ledger.models import Entry, PendingEntry, SealedAccess
from ledger.sequencer import log_verifier_key
from ledger.tiles import tiles_publish, tiles_storage
from ledger.tools import vindex
from tests.portal.web.test_consents_and_access import given_agency_access

# What the investigation's access said: none of it may reach the resident before the date.
SECRET_OBJECT = "tax-file 4471-ZQ covert review"
LEGAL_REFERENCE = "Order 2026/88 of the Municipal Procuratorate"


def _seal(resident, *, unseal_on, role="sealing-authority", purpose="sealed-investigation", legal=LEGAL_REFERENCE):
    with access_context(actor=Actor(type="staff", id="inspector-7"), role=role, channel="web", purpose=purpose):
        return access_seal(
            action="cards.residents.lookup",
            subject=resident,
            object=SECRET_OBJECT,
            unseal_on=unseal_on,
            legal_reference=legal,
        )


def _leaks(text: str) -> list[str]:
    markers = [SECRET_OBJECT, LEGAL_REFERENCE, "inspector-7", "cards.residents.lookup"]
    return [marker for marker in markers if marker in text]


def sealed_entry_index(resident) -> int:
    tag = subject_pseudonym(resident)
    rows = Entry.objects.filter(subject=tag).values_list("index", "entry_bytes")
    return next(index for index, data in rows if b'"sealed":' in bytes(data))


def _tiles_text() -> str:
    tiles_publish()
    root = Path(tiles_storage().location)
    return "".join(path.read_bytes().decode("utf-8", "replace") for path in root.rglob("*") if path.is_file())


@pytest.fixture
def sealed_access(resident_a, ledger_sequenced):
    resident = resident_a[1]
    given_agency_access(resident)
    unseal_on = timezone.localdate() + datetime.timedelta(days=30)
    sealed = _seal(resident, unseal_on=unseal_on)
    given_agency_access(resident)
    log_seal()
    ledger_sequenced()
    return resident, unseal_on, sealed


def test_a_sealed_access_is_counted_and_withheld_everywhere_until_its_date(client_a, sealed_access):
    resident, unseal_on, sealed = sealed_access
    tag = subject_pseudonym(resident)
    sealed_entry = next(
        json.loads(bytes(data))
        for data in Entry.objects.filter(subject=tag).values_list("entry_bytes", flat=True)
        if b'"sealed":' in bytes(data)
    )

    # The log holds the tag, the chain and the seal, nothing else.
    assert sorted(sealed_entry) == ["index", "sealed", "subject", "subject_prev", "subject_seq"]
    assert sealed_entry["sealed"] == {
        "commitment": base64.b64encode(bytes(sealed.commitment)).decode(),
        "unseal_on": unseal_on.isoformat(),
    }
    # The page says one sealed access and its date, and nothing of what it was.
    page = client_a.get("/me/access/").content.decode()
    assert f"1 sealed access, to be disclosed on {unseal_on.isoformat()}" in page
    assert _leaks(page) == []
    # The completeness bundle counts it and still verifies.
    response = client_a.get("/me/access/completeness.json")
    bundle = response.json()
    result = vindex.completeness_verify(bundle, log_key=log_verifier_key(), witness_keys=bundle["witness_keys"])
    assert result["count"] == 3
    assert result["sealed"] == [{"index": sealed_entry["index"], "unseal_on": unseal_on.isoformat()}]
    assert _leaks(response.content.decode()) == []
    # The entry's own proof, the public log API and the public tiles hold only the commitment.
    proof = client_a.get(f"/me/access/{sealed_entry['index']}/proof.json").content.decode()
    assert _leaks(proof) == []
    assert _leaks(client_a.get("/ledger/checkpoint").content.decode()) == []
    assert _leaks(_tiles_text()) == []
    # A run of the release task before the date discloses nothing.
    assert sealing.sealed_release(today=unseal_on - datetime.timedelta(days=1)) == 0
    assert _leaks(client_a.get("/me/access/").content.decode()) == []


def test_on_its_date_the_access_is_disclosed_checked_against_its_commitment_and_the_resident_told(
    client_a, sealed_access, ledger_sequenced, django_capture_on_commit_callbacks
):
    resident, unseal_on, sealed = sealed_access
    resident.email = "resident-a@example.org"
    resident.save()

    with django_capture_on_commit_callbacks(execute=True):
        assert sealing.sealed_release(today=unseal_on) == 1
    log_seal()

    page = client_a.get("/me/access/").content.decode()
    assert "1 sealed access" not in page
    assert "access-withheld" not in page
    # Disclosed: the entry is listed as the access it was (its sentence, no longer the withheld line).
    assert f'id="access-{sealed_entry_index(resident)}"' in page
    bundle = client_a.get("/me/access/completeness.json").json()
    result = vindex.completeness_verify(bundle, log_key=log_verifier_key(), witness_keys=bundle["witness_keys"])
    assert result["sealed"] == []
    released = [entry["released"] for entry in result["entries"] if "released" in entry]
    assert [(item["action"], item["object"]) for item in released] == [("cards.residents.lookup", SECRET_OBJECT)]
    # A doctored opening is refused by the resident's check.
    item = next(item for item in bundle["entries"] if "opening" in item)
    item["opening"]["contents"] = item["opening"]["contents"].replace(SECRET_OBJECT, "routine check")
    with pytest.raises(vindex.CompletenessError, match="^bad opening"):
        vindex.completeness_verify(bundle, log_key=log_verifier_key(), witness_keys=bundle["witness_keys"])
    # The resident is e-mailed, in Chinese and English, and the e-mail is recorded about them.
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["resident-a@example.org"]
    assert unseal_on.isoformat() in mail.outbox[0].body
    assert "保密" in mail.outbox[0].subject or "保密" in mail.outbox[0].body
    notified = ledger_sequenced(subject=subject_pseudonym(resident), action="ledger.sealed.notify")
    assert len(notified) == 1
    # A second run releases nothing twice.
    assert sealing.sealed_release(today=unseal_on) == 0


def test_the_sealing_is_recorded_and_listed_for_auditors_not_for_the_resident(sealed_access, ledger_sequenced):
    resident, unseal_on, sealed = sealed_access
    seal_acts = ledger_sequenced(subject=subject_pseudonym(f"sealed:{bytes(sealed.commitment).hex()}"))

    assert [(entry["action"], entry["purpose"], entry["actor"]["role"]) for entry in seal_acts] == [
        ("ledger.sealed.seal", "sealed-investigation", "sealing-authority")
    ]
    assert [entry["actor"] for entry in seal_acts] == [
        {"id": "ledger.sealing", "role": "sealing-authority", "type": "system"}
    ]
    assert _leaks(json.dumps(seal_acts)) == []
    listed = list(sealing.sealed_list_for_auditors().values_list("legal_reference", "unseal_on", "sealed_by"))
    assert listed == [(LEGAL_REFERENCE, unseal_on, "staff:inspector-7")]
    # The contents are kept encrypted at rest.
    assert SECRET_OBJECT.encode() not in bytes(SealedAccess.objects.get().sealed)


@pytest.fixture
def auditor_client(db, client):
    from portal.models import BackupCodeDevice
    from tests.factories import UserFactory
    from tests.portal.staff import role_group

    user = UserFactory(is_staff=True)
    user.save()
    user.groups.add(role_group("auditor"))
    device = BackupCodeDevice.objects.create(user=user, name="backup")
    client.force_login(user)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    return client


def test_the_auditors_list_sealed_accesses_with_their_legal_reference(auditor_client, sealed_access):
    response = auditor_client.get("/admin/ledger/sealedaccess/", follow=True)

    assert response.status_code == 200
    assert LEGAL_REFERENCE in response.content.decode()
    assert SECRET_OBJECT not in response.content.decode()


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"role": "registrar"}, "only the sealing-authority role"),
        ({"purpose": "registration"}, "only the sealing-authority role"),
        ({"legal": "  "}, "a legal reference"),
        ({"unseal_on": "today"}, "after today"),
    ],
)
def test_sealing_needs_its_role_purpose_legal_reference_and_a_future_date(resident_a, options, reason):
    if options.get("unseal_on") == "today":
        options["unseal_on"] = timezone.localdate()
    options.setdefault("unseal_on", timezone.localdate() + datetime.timedelta(days=3))

    with pytest.raises(SealRefused, match=reason):
        _seal(resident_a[1], **options)

    assert not PendingEntry.objects.filter(action="ledger.sealed.record").exists()
    assert not SealedAccess.objects.exists()


def test_a_sealed_access_cannot_be_inserted_already_released(sealed_access):
    """An INSERT that set released_at would mark an access released with no opening ever published."""
    from django.db import DatabaseError, transaction
    from django.utils import timezone

    row = SealedAccess.objects.get()
    fields = {f.attname: getattr(row, f.attname) for f in SealedAccess._meta.concrete_fields if f.attname != "id"}
    fields["commitment"] = bytes(32)

    with pytest.raises(DatabaseError, match="added unreleased"), transaction.atomic():
        SealedAccess.objects.create(**{**fields, "released_at": timezone.now()})
    assert SealedAccess.objects.count() == 1
