"""OneCard's side of the matching protocol: two runs of ECDH private set intersection (openmined-psi).

Run 1, OneCard learns. OneCard is the PSI *client* over its set, sent in chunks;
the partner is the PSI *server* over its list: it sends its blinded list once
(a RAW setup message) and answers each chunk of OneCard's blinded set. OneCard
learns which of its residents are on the partner's list; the partner learns
only how many items OneCard's (padded) set has.

Run 2, the partner learns. The partner is the PSI client over its list; OneCard
is the PSI server over the residents it found in run 1, and nobody else. The
partner learns which of its entries are among them; OneCard learns only how
many entries the partner asked about.

Nothing here imports Django: the benchmark and the tests drive it directly.
docs/matching.md explains why the roles are these.
"""

import base64
import binascii
import secrets
from collections.abc import Sequence

import private_set_intersection.python as psi
from google.protobuf.message import DecodeError

CHUNK_SIZE = 20_000
# A compressed P-256 point: what every encrypted element is.
ELEMENT_BYTES = 33
# OneCard's set is padded with random items to a multiple of this (and at least this), so a small
# set's exact size does not leave with the first chunk.
SET_PADDING = 1_000
PADDING = 0  # the resident id standing for a padding item in a session's order


class MessageInvalid(ValueError):
    """A protocol message is malformed or does not fit the session."""


def message_encode(message) -> str:
    """Return MESSAGE serialised and in standard base64, as the API carries it."""
    return base64.b64encode(message.SerializeToString()).decode("ascii")


def _decode(text, message_type, *, what: str):
    if not isinstance(text, str):
        raise MessageInvalid(f"{what} must be a base64 string")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise MessageInvalid(f"{what} is not valid base64") from None
    message = message_type()
    try:
        message.ParseFromString(raw)
    except (DecodeError, RuntimeError, ValueError):
        raise MessageInvalid(f"{what} is not a serialised {message_type.__name__} message") from None
    return message


def _elements_check(elements: Sequence[bytes], *, what: str, at_most: int, exactly: int | None = None) -> int:
    count = len(elements)
    if exactly is not None and count != exactly:
        raise MessageInvalid(f"{what} must hold {exactly} elements, not {count}")
    if count > at_most:
        raise MessageInvalid(f"{what} holds {count} elements; at most {at_most} are accepted")
    if any(len(element) != ELEMENT_BYTES for element in elements):
        raise MessageInvalid(f"{what} holds an element that is not a compressed P-256 point")
    # Distinct IDs blind to distinct points: a repeat means a repeated ID, or a partner copying
    # one answer into several places to make OneCard believe in matches that are not there.
    if len(set(elements)) != count:
        raise MessageInvalid(f"{what} holds the same element more than once")
    return count


def partner_setup_parse(text, *, at_most: int) -> tuple[bytes, int]:
    """Return the partner's blinded list (run 1) serialised again, and how many items it holds.

    Only the RAW form is accepted: its items can be counted, so the list counts
    against the limits, and it matches exactly. A Bloom filter or GCS could be
    filled to match anything.
    """
    setup = _decode(text, psi.ServerSetup, what="setup")
    if setup.WhichOneof("data_structure") != "raw":
        raise MessageInvalid("setup must be the RAW data structure (psi.DataStructure.RAW)")
    count = _elements_check(setup.raw.encrypted_elements, what="setup", at_most=at_most)
    if count == 0:
        raise MessageInvalid("setup holds no elements: the list is empty")
    return setup.SerializeToString(), count


def padded_size(size: int) -> int:
    """Return how many items OneCard sends for a set of SIZE residents: padded up to a multiple of SET_PADDING."""
    return max(SET_PADDING, -(-size // SET_PADDING) * SET_PADDING)


def chunk_count(padded: int) -> int:
    """Return how many chunks a padded set of PADDED items is sent in."""
    return -(-padded // CHUNK_SIZE)


def padding_item() -> str:
    """Return a random item no national ID can equal."""
    return "onecard-padding:" + secrets.token_hex(16)


def client_key_new() -> bytes:
    """Return a fresh private key for OneCard's run-1 client."""
    return psi.client.CreateWithNewKey(True).GetPrivateKeyBytes()


def chunk_request(*, key: bytes, items: list[str]) -> str:
    """Return OneCard's blinded request for one chunk of ITEMS (run 1), in base64."""
    return message_encode(psi.client.CreateFromKey(key, True).CreateRequest(items))


def chunk_matches(*, key: bytes, setup: bytes, response_text, expected: int) -> list[int]:
    """Return the positions in the chunk whose items are on the partner's list (run 1).

    RESPONSE_TEXT is the partner's answer to the chunk's request; it must hold
    EXPECTED distinct elements.
    """
    response = _decode(response_text, psi.Response, what="response")
    _elements_check(response.encrypted_elements, what="response", at_most=expected, exactly=expected)
    partner_setup = psi.ServerSetup()
    partner_setup.ParseFromString(setup)
    try:
        return sorted(psi.client.CreateFromKey(key, True).GetIntersection(partner_setup, response))
    except RuntimeError as error:
        raise MessageInvalid(f"response could not be read: {str(error).splitlines()[0]}") from None


def partner_request_parse(text, *, at_most: int):
    """Return the partner's run-2 request, checked: it reveals the intersection and holds at most AT_MOST items."""
    request = _decode(text, psi.Request, what="request")
    if not request.reveal_intersection:
        raise MessageInvalid("request must be made by a client created with reveal_intersection=True")
    count = _elements_check(request.encrypted_elements, what="request", at_most=at_most)
    if count == 0:
        raise MessageInvalid("request holds no elements")
    return request


def answer(*, request, items: list[str]) -> tuple[str, str]:
    """Return OneCard's run-2 setup over ITEMS and its response to the partner's REQUEST, in base64."""
    server = psi.server.CreateWithNewKey(True)
    setup = server.CreateSetupMessage(0.0, len(request.encrypted_elements), items, psi.DataStructure.RAW)
    try:
        response = server.ProcessRequest(request)
    except RuntimeError as error:
        raise MessageInvalid(f"request could not be read: {str(error).splitlines()[0]}") from None
    return message_encode(setup), message_encode(response)
