"""After a scripted session, no table or log line holds a national ID, OTP secret, backup code, activation code or reset
link."""

import base64
import logging
import re
import unicodedata

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.db import connection

from cards.actions import card_issue
from cards.models import Resident
from ledger.api import Actor, access_context
from portal.models import TOTPDevice
from tests.factories.portal import resident_with_account, totp_now
from tests.idnumbers import make_national_id
from tests.portal.staff import admin_login, fast_password_hashing, purpose_state, staff_create  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]
PASSWORD = "lantern-orchid-91"
_FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def spellings(number: str) -> list[str]:
    return [number, f"{number[:6]} {number[6:14]} {number[14:]}", number.translate(_FULL_WIDTH), number.lower()]


def database_text() -> list[tuple[str, str, str]]:
    """Return (table, column, text) for every non-empty value of every column of every table."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            columns = [column.name for column in connection.introspection.get_table_description(cursor, table)]
            quoted = ", ".join(connection.ops.quote_name(column) for column in columns)
            cursor.execute(f"SELECT {quoted} FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if value is None:
                        continue
                    if isinstance(value, bytes | memoryview):
                        value = bytes(value).decode("utf-8", "replace")
                    found.append((table, column, str(value)))
    return found


def totp_key_spellings(whose: str, key: bytes) -> dict[str, str]:
    """Return the ways a TOTP KEY is written down: base32 (as apps show it) and hex (as django-otp stored it)."""
    base32 = base64.b32encode(key).decode().rstrip("=")
    return {f"{whose} TOTP key (base32)": base32, f"{whose} TOTP key (hex)": key.hex()}


def squeezed(text: str) -> str:
    """Return TEXT as a national ID would be compared: NFKC, no whitespace, upper case."""
    return "".join(unicodedata.normalize("NFKC", text).split()).upper()


def test_a_scripted_session_leaves_no_national_id_or_secret_in_the_database_or_the_logs(
    client, caplog, capsys, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.DEBUG)
    secrets: dict[str, str] = {}
    national_ids: list[str] = []

    # Sign-ins: good and bad, by username and by national ID in several spellings.
    user, holder, _card, device = resident_with_account()
    national_ids.append(holder.national_id)
    for typed in spellings(holder.national_id):
        client.post("/login/", {"username": typed, "password": "wrong"})
    unregistered = make_national_id(county="310115", birth="19600315", sequence=901)
    national_ids.append(unregistered)
    for typed in spellings(unregistered):
        client.post("/login/", {"username": typed, "password": "wrong"})
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/login/", {"username": holder.national_id, "password": "correct-horse-battery"})
        client.post("/account/otp/verify/", {"otp_token": totp_now(device)})
        client.get("/me/")
        client.get("/me/card/")
    client.post("/logout/")
    secrets |= totp_key_spellings("holder's", device.bin_key)

    # A caseworker registers a resident through the admin (the ID typed in full-width digits) and a card is issued.
    newcomer_id = make_national_id(county="110105", birth="19851224", sequence=77)
    national_ids.append(newcomer_id)
    registrar = staff_create("registrar")
    admin_login(client, registrar)
    purpose_state(client, "registration")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/admin/cards/resident/add/",
            {"national_id": newcomer_id.translate(_FULL_WIDTH), "full_name": "Zhao Min", "email": "zhao@example.org"},
        )
        newcomer = Resident.objects.get(full_name="Zhao Min")
        client.get("/admin/cards/resident/")
        client.get(f"/admin/cards/resident/{newcomer.pk}/change/")
    client.post("/admin/logout/")
    officer = access_context(actor=Actor(type="staff", id="t"), role="card-officer", channel="admin", purpose=None)
    with django_capture_on_commit_callbacks(execute=True), officer:
        card_issue(resident=newcomer)
    secrets["activation code"] = re.search(r"Activation code: (\w+)", mail.outbox[-1].body).group(1)

    # The newcomer activates (one wrong code first), enrols an authenticator and resets the password.
    with django_capture_on_commit_callbacks(execute=True):
        wrong = {"national_id": newcomer_id, "code": "WRONGWRONG", "username": "zhao.min"}
        client.post("/activate/", wrong | {"password1": PASSWORD, "password2": PASSWORD})
        client.post(
            "/activate/",
            {"national_id": newcomer_id, "code": secrets["activation code"], "username": "zhao.min"}
            | {"password1": PASSWORD, "password2": PASSWORD},
        )
        client.get("/account/otp/enrol/")
        enrolled = TOTPDevice.objects.get(user__username="zhao.min", confirmed=False)
        shown = client.post("/account/otp/enrol/", {"otp_token": totp_now(enrolled)})
    secrets |= totp_key_spellings("newcomer's", enrolled.bin_key)
    secrets |= {f"backup code {n}": code for n, code in enumerate(shown.context["codes"])}
    with django_capture_on_commit_callbacks(execute=True):
        # One backup code is spent at a later sign-in; the other nine stay stored.
        client.post("/logout/")
        client.post("/login/", {"username": "zhao.min", "password": PASSWORD})
        client.post("/account/otp/verify/", {"otp_token": shown.context["codes"][0]})
        assert client.get("/me/").status_code == 200
    client.post("/logout/")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/password-reset/", {"email": "zhao@example.org"})
    link = re.search(r"https?://\S+/password-reset/(\S+)/", mail.outbox[-1].body)
    secrets["reset link"] = link.group(1)
    page = client.get(link.group(0), follow=True)
    client.post(page.redirect_chain[-1][0], {"new_password1": "quiet-meadow-58", "new_password2": "quiet-meadow-58"})

    newcomer.refresh_from_db()
    enrolled.refresh_from_db()
    assert enrolled.confirmed and newcomer.user.check_password("quiet-meadow-58")
    assert len(shown.context["codes"]) == 10
    assert AccessAttempt.objects.exists()

    stored = database_text()
    logged = [record.getMessage() for record in caplog.records]
    printed = capsys.readouterr()
    places = [(f"{table}.{column}", text) for table, column, text in stored]
    places += [("log", text) for text in logged] + [("stdout", printed.out), ("stderr", printed.err)]
    assert len(stored) > 100 and logged
    leaks = [
        (where, name)
        for where, text in places
        for name, needle in [*((f"national ID {n}", n) for n in national_ids), *secrets.items()]
        if needle.upper() in squeezed(text) or needle in text
    ]
    assert leaks == []
