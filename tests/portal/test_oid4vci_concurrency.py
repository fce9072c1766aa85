"""Real threads on PostgreSQL: a pre-authorized code and a c_nonce each work once, however many arrive together."""

import threading

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import connection

from cards.actions import (
    card_credential_oid4vci_issue,
    credential_nonce_create,
    credential_offer_create,
    credential_offer_redeem,
)
from cards.errors import IssuanceRefused
from cards.oid4vci import SD_JWT_CONFIGURATION
from cards.tools.onecard_wallet import public_jwk
from ledger.api import Actor, access_context
from tests.factories.cards import CardFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row locks under real concurrency are tested on PostgreSQL; SQLite serialises writers")


def _resident():
    return access_context(actor=Actor(type="resident", id="r"), role="resident", channel="web", purpose="self-service")


def _race(count: int, attempt) -> list[str]:
    barrier = threading.Barrier(count)
    outcomes = []

    def run():
        try:
            barrier.wait()
            outcomes.append(attempt())
        except IssuanceRefused as refused:
            outcomes.append(refused.error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)


def test_ten_simultaneous_redemptions_of_one_code_give_one_token():
    card = CardFactory()
    with _resident():
        code = credential_offer_create(card=card)

    outcomes = _race(10, lambda: "token" if credential_offer_redeem(code=code) else "none")

    assert outcomes.count("token") == 1 and outcomes.count("invalid_grant") == 9


def test_ten_simultaneous_requests_with_one_nonce_issue_one_credential():
    card = CardFactory()
    nonce = credential_nonce_create()
    jwk = public_jwk(Ed25519PrivateKey.generate())

    def attempt():
        with _resident():
            card_credential_oid4vci_issue(
                card=card, configuration=SD_JWT_CONFIGURATION, holder_jwk=jwk, nonce=nonce, insured=False
            )
        return "issued"

    outcomes = _race(10, attempt)

    assert outcomes.count("issued") == 1 and outcomes.count("invalid_nonce") == 9
