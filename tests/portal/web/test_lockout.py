"""Failed sign-ins count per account, whichever identifier was typed, and never store a typed national ID."""

import pytest
from axes.models import AccessAttempt

from tests.factories.portal import resident_with_account
from tests.idnumbers import make_national_id
from tests.portal.staff import fast_password_hashing  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]
RIGHT = "correct-horse-battery"
_FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def spellings(national_id: str) -> list[str]:
    """Return ways a person may type NATIONAL_ID: plain, grouped, full-width, lower-case x."""
    return [
        national_id,
        f"{national_id[:6]} {national_id[6:14]} {national_id[14:]}",
        national_id.translate(_FULL_WIDTH),
        f" {national_id.lower()} ",
    ]


def test_failures_under_the_username_lock_every_spelling_of_the_national_id(client, settings):
    user, resident, _card, _device = resident_with_account()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/login/", {"username": user.username, "password": "wrong"})

    wrong = [
        client.post("/login/", {"username": typed, "password": "wrong"}) for typed in spellings(resident.national_id)
    ]
    right = client.post("/login/", {"username": resident.national_id, "password": RIGHT})

    assert [response.status_code for response in wrong] == [429] * 4
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session


def test_failures_under_different_spellings_add_up_to_one_lockout(client, settings):
    user, resident, _card, _device = resident_with_account()
    typed = spellings(resident.national_id) + [user.username]
    for name in typed[: settings.AXES_FAILURE_LIMIT]:
        client.post("/login/", {"username": name, "password": "wrong"})

    right = client.post("/login/", {"username": user.username, "password": RIGHT})

    assert right.status_code == 429
    assert "_auth_user_id" not in client.session


def test_failures_below_the_limit_across_spellings_still_let_the_right_password_in(client, settings):
    user, resident, _card, _device = resident_with_account()
    for name in spellings(resident.national_id)[: settings.AXES_FAILURE_LIMIT - 1]:
        client.post("/login/", {"username": name, "password": "wrong"})

    right = client.post("/login/", {"username": resident.national_id, "password": RIGHT})

    assert right.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    assert not AccessAttempt.objects.exists()


def test_a_failed_login_with_a_national_id_stores_no_national_id(client):
    _user, resident, _card, _device = resident_with_account()
    unregistered = make_national_id(county="310115", birth="19600315", sequence=7)

    for typed in [*spellings(resident.national_id), unregistered]:
        client.post("/login/", {"username": typed, "password": "wrong"})

    stored = " ".join(f"{a.username} {a.get_data} {a.post_data}" for a in AccessAttempt.objects.all())
    assert AccessAttempt.objects.exists()
    assert resident.national_id[6:14] not in stored
    assert resident.national_id.translate(_FULL_WIDTH)[6:14] not in stored
    assert unregistered[6:14] not in stored
