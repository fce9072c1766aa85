"""Offline card verification against raw Ed25519 verification, measured in the same run.

    python -m bench.cards_bench [--seconds 2] [--status-entries 100000]

Prints one row: {"name", "value", "unit", "baseline", "ratio"}; the target ratio is >= 0.8.
"""

import argparse
import json
import time

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cards.tools import onecard_card_verify as tool


def _number(seed: int) -> str:
    body = "9" + f"{seed:017d}"
    for check in "0123456789":
        if tool.luhn_is_valid(body + check):
            return body + check
    raise AssertionError("unreachable")


def _rate(function, seconds: float) -> float:
    """Return calls per second of FUNCTION over about SECONDS."""
    count, started = 0, time.perf_counter()
    deadline = started + seconds
    while True:
        for _ in range(200):
            function()
        count += 200
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - started)


def run(*, seconds: float = 3.0, status_entries: int = 100_000) -> list[dict]:
    private = Ed25519PrivateKey.generate()
    public_raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    jwks = {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": tool.b64url_encode(public_raw), "kid": "bench"}]}
    keys = tool.jwks_load(jwks)
    now = int(time.time())
    claims = {"iss": "onecard", "sub": _number(7), "ver": 1, "iat": now, "exp": now + 3600}
    token = jwt.encode(claims, private, algorithm="EdDSA", headers={"kid": "bench"})
    statuses = {_number(seed): {"1": "revoked"} for seed in range(1000, 1000 + status_entries)}
    signing_input, signature_part = token.rsplit(".", 1)
    message, signature = signing_input.encode(), tool.b64url_decode(signature_part)
    public = keys["bench"]
    assert tool.credential_verify(token, keys=keys, statuses=statuses).valid

    def offline():
        tool.credential_verify(token, keys=keys, statuses=statuses)

    def raw():
        public.verify(signature, message)

    # Alternate the two and keep each one's best round, so machine noise hits both alike.
    offline_best = raw_best = 0.0
    for _ in range(3):
        raw_best = max(raw_best, _rate(raw, seconds / 3))
        offline_best = max(offline_best, _rate(offline, seconds / 3))
    return [
        {
            "name": "cards.offline_verify.vs_raw_ed25519",
            "value": round(offline_best),
            "unit": "verifications/s",
            "baseline": round(raw_best),
            "ratio": round(offline_best / raw_best, 3),
        }
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--status-entries", type=int, default=100_000)
    args = parser.parse_args()
    for result in run(seconds=args.seconds, status_entries=args.status_entries):
        print(json.dumps(result))


if __name__ == "__main__":
    main()
