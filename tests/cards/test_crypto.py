import pytest
from django.db import connection

from cards.crypto import DecryptionError, national_id_decrypt, national_id_encrypt, national_id_lookup_hash
from tests.factories import ResidentFactory
from tests.idnumbers import make_national_id


def test_encryption_round_trips():
    number = make_national_id()

    assert national_id_decrypt(national_id_encrypt(number)) == number


def test_encryption_uses_a_fresh_nonce_each_time():
    number = make_national_id()

    assert national_id_encrypt(number) != national_id_encrypt(number)


def test_decrypt_refuses_a_tampered_ciphertext():
    blob = bytearray(national_id_encrypt(make_national_id()))
    blob[-1] ^= 1

    with pytest.raises(DecryptionError):
        national_id_decrypt(bytes(blob))


def test_decrypt_refuses_a_ciphertext_under_another_key(settings):
    blob = national_id_encrypt(make_national_id())
    settings.ONECARD_NATIONAL_ID_KEY = bytes(32)

    with pytest.raises(DecryptionError):
        national_id_decrypt(blob)


def test_lookup_hash_depends_on_the_key(settings):
    number = make_national_id()
    first = national_id_lookup_hash(number)
    settings.ONECARD_LOOKUP_KEY = bytes(32)

    assert national_id_lookup_hash(number) != first


@pytest.mark.django_db
def test_raw_table_never_holds_a_national_id_in_clear():
    residents = ResidentFactory.create_batch(5)
    numbers = [resident.national_id for resident in residents]

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM cards_resident")
        rows = cursor.fetchall()
    dump = repr(rows) + "".join(
        bytes(value).hex() for row in rows for value in row if isinstance(value, bytes | memoryview)
    )

    assert len(rows) == 5
    for number in numbers:
        assert number not in dump
        assert number.encode().hex() not in dump
        assert number[6:14] + number[14:17] not in dump
