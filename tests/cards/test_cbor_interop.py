"""The offline tool's CBOR codec against cbor2, an independent implementation: same bytes, same values.

The mdoc code (issuer, wallet, reader) shares the tool's small codec so that the
tool runs with `cryptography` alone; cbor2 is used here only, as a second opinion.
"""

import cbor2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cards.actions import card_credential_mdoc_issue
from cards.tools import onecard_card_verify as tool
from cards.tools import onecard_mdoc as mdoc
from cards.tools.onecard_wallet import MdocWallet, device_key_generate, public_jwk
from tests.factories.cards import CardFactory

scalars = (
    st.integers(min_value=-(2**64), max_value=2**64 - 1)
    | st.binary(max_size=40)
    | st.text(max_size=20)
    | st.booleans()
    | st.none()
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=8) | st.integers(-100, 100), children, max_size=4)
        | st.builds(tool.CborTag, st.sampled_from([17, 18, 24, 33, 40000]), children)
    ),
    max_leaves=12,
)


def ours_to_cbor2(value):
    if isinstance(value, tool.CborTag):
        return cbor2.CBORTag(value.tag, ours_to_cbor2(value.value))
    if isinstance(value, list):
        return [ours_to_cbor2(item) for item in value]
    if isinstance(value, dict):
        return {key: ours_to_cbor2(item) for key, item in value.items()}
    return value


def cbor2_to_ours(value):
    if isinstance(value, cbor2.CBORTag):
        return tool.CborTag(value.tag, cbor2_to_ours(value.value))
    if isinstance(value, list | tuple):  # cbor2 reads an array inside a tag as a tuple
        return [cbor2_to_ours(item) for item in value]
    if isinstance(value, dict | cbor2.frozendict):  # and a map inside a tag as a frozendict
        return {key: cbor2_to_ours(item) for key, item in value.items()}
    return value


@given(values)
def test_both_codecs_write_the_same_bytes_and_read_each_other(value):
    ours = tool.cbor_encode(value)

    assert ours == cbor2.dumps(ours_to_cbor2(value))
    assert tool.cbor_decode(cbor2.dumps(ours_to_cbor2(value))) == value
    assert cbor2_to_ours(cbor2.loads(ours)) == value


@pytest.mark.django_db
def test_cbor2_reads_a_whole_device_response_as_18013_5_shapes_it(caseworker_context):
    key = device_key_generate()
    card = CardFactory()
    wallet = MdocWallet(
        device_key=key, document=card_credential_mdoc_issue(card=card, insured=True, holder_jwk=public_jwk(key))
    )
    engagement = cbor2.loads(mdoc.device_engagement_parse(wallet.engage())[0])
    reader = mdoc.MdocReader(mdoc.device_engagement_uri(cbor2.dumps(engagement)))  # re-encoded by cbor2, same bytes

    response = cbor2.loads(reader.response(wallet.respond(reader.establishment({"name": True}))))

    document = response["documents"][0]
    assert (response["version"], response["status"], document["docType"]) == ("1.0", 0, tool.MDOC_DOCTYPE)
    item = cbor2.loads(document["issuerSigned"]["nameSpaces"][tool.MDOC_NAMESPACE][0].value)
    assert (item["elementIdentifier"], item["elementValue"]) == ("name", card.resident.full_name)
    assert document["deviceSigned"]["nameSpaces"] == cbor2.CBORTag(24, b"\xa0")
    assert cbor2.loads(document["issuerSigned"]["issuerAuth"][0]) == {1: -7}
    assert isinstance(document["issuerSigned"]["issuerAuth"][1][33], bytes)


# Whatever arrives, the reader and the wallet answer with a reason, never an exception.
@given(values)
def test_any_cbor_as_a_device_response_gets_a_reason(value):
    verdict = tool.mdoc_device_response_verify(
        tool.cbor_encode(value), session_transcript=b"\x80", trust_anchors=[], status_list=None
    )

    assert verdict.valid is False and isinstance(verdict.reason, str)


@given(st.dictionaries(st.sampled_from(["version", "documents", "status"]), values, max_size=3), values)
def test_any_document_shape_gets_a_reason(response, document):
    response = {"version": "1.0", "status": 0, **response}
    response.setdefault("documents", [document])

    verdict = tool.mdoc_device_response_verify(
        tool.cbor_encode(response), session_transcript=b"\x80", trust_anchors=[], status_list=None
    )

    assert verdict.valid is False and isinstance(verdict.reason, str)


@given(values)
def test_any_cbor_as_an_engagement_is_refused_cleanly(value):
    with pytest.raises(tool.CredentialRefused):
        mdoc.device_engagement_parse(tool.cbor_encode(value))


@given(values)
def test_any_cbor_as_a_device_request_gets_a_device_response(value):
    wallet = MdocWallet(
        device_key=device_key_generate(),
        document=tool.cbor_encode({"docType": tool.MDOC_DOCTYPE, "issuerSigned": {"issuerAuth": [], "nameSpaces": {}}}),
    )

    response = tool.cbor_decode(wallet.device_response(value, session_transcript=b"\x80"))

    assert response["version"] == "1.0" and response["status"] in (0, 12)
