#!/usr/bin/env python3
"""Match a list of national IDs privately against a OneCard set; print the IDs that matched, one a line.

    onecard_match.py --base-url https://onecard.example --api-key KEY --purpose credit-assessment \\
        --set active-card IDS.csv

IDS.csv holds one national ID per line (the first column; a header line
``national_id`` is skipped). Every malformed line is reported on stderr as
``line N: national_id: message`` and left out; when more than half the lines are
malformed the list is refused and nothing is sent. Repeated IDs are sent once.

OneCard never sees the list: only the IDs blinded under a key that stays in
this process (elliptic-curve private set intersection, openmined-psi). OneCard
learns which of its residents are on the list and records one access for each
in their ledger; this program learns which of its IDs are in the set; neither
learns anything about the other's other records (docs/matching.md).

Needs only the standard library and openmined-psi (``pip install openmined.psi``).
Exit status: 0 when the match completed, 1 for a refused list or file, 2 when OneCard refused or failed.
"""

import argparse
import base64
import csv
import datetime
import json
import sys
import time
import unicodedata
import urllib.error
import urllib.request
import uuid

import private_set_intersection.python as psi

# GB/T 2260 province codes: the first two digits of a national ID (GB 11643-1999).
PROVINCE_CODES = frozenset(
    {
        "11", "12", "13", "14", "15",
        "21", "22", "23",
        "31", "32", "33", "34", "35", "36", "37",
        "41", "42", "43", "44", "45", "46",
        "50", "51", "52", "53", "54",
        "61", "62", "63", "64", "65",
        "71", "81", "82",
    }
)  # fmt: skip
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
RETRIES = 5
# Answers worth the same request again, with the same Idempotency-Key: nothing was done twice.
_RETRY = {"/api/problems/idempotency-key-in-flight", "/api/problems/rate-limited", "/api/problems/service-unavailable"}
TIMEOUT_SECONDS = 120


class Refused(Exception):
    """OneCard answered with a problem, or could not be reached."""


def normalize_national_id(value: str) -> str:
    """Return VALUE as OneCard compares national IDs: NFKC, no spaces, upper-case X."""
    return "".join(unicodedata.normalize("NFKC", value).split()).upper()


def national_id_problem(number: str, *, today: datetime.date | None = None) -> str | None:
    """Return what is wrong with the normalised NUMBER as a GB 11643 national ID, or None."""
    today = today or datetime.date.today()
    if len(number) != 18:
        return f"must be 18 characters, not {len(number)}"
    if not (number[:17].isascii() and number[:17].isdigit() and (number[17].isdigit() or number[17] == "X")):
        return "must be 17 digits followed by a digit or X"
    if number[:2] not in PROVINCE_CODES:
        return f"unknown province code {number[:2]}"
    try:
        birth = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return f"birth date {number[6:14]} is not a real date"
    if birth > today or birth.year < 1900:
        return f"birth date {birth.isoformat()} is out of range"
    if _CHECK[sum(int(digit) * weight for digit, weight in zip(number, _WEIGHTS, strict=False)) % 11] != number[17]:
        return "the check character does not match"
    return None


def ids_read(path: str) -> tuple[list[str], list[str], int]:
    """Return the distinct valid IDs of the file at PATH in file order, a message per malformed line, and the lines.

    Raise ValueError for a file that cannot be read as UTF-8 CSV.
    """
    ids: dict[str, None] = {}
    problems: list[str] = []
    lines = 0
    try:
        with open(path, newline="", encoding="utf-8-sig") as file:
            for number, row in enumerate(csv.reader(file), start=1):
                if not row or not "".join(row).strip():
                    continue
                value = normalize_national_id(row[0])
                if number == 1 and value == "NATIONAL_ID":
                    continue
                lines += 1
                problem = national_id_problem(value)
                if problem:
                    problems.append(f"line {number}: national_id: {problem}")
                else:
                    ids.setdefault(value)
    except UnicodeDecodeError as error:
        raise ValueError(f"line 1: file: not UTF-8 ({error.reason})") from None
    except csv.Error as error:
        raise ValueError(f"line 1: file: {error}") from None
    return list(ids), problems, lines


def _encode(message) -> str:
    return base64.b64encode(message.SerializeToString()).decode("ascii")


def _decode(text: str, message_type):
    message = message_type()
    message.ParseFromString(base64.b64decode(text))
    return message


class Gateway:
    """POST JSON to OneCard's partner API, retrying what is safe to retry with the same Idempotency-Key."""

    def __init__(self, base_url: str, api_key: str, purpose: str, case_id: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = {
            "Authorization": f"Bearer {api_key}",
            "X-Purpose": purpose,
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        if case_id:
            self.headers["X-Case-Id"] = case_id

    def post(self, path: str, body: dict) -> dict:
        data = json.dumps(body).encode()
        headers = {**self.headers, "Idempotency-Key": str(uuid.uuid4())}
        for attempt in range(RETRIES):
            request = urllib.request.Request(self.base_url + path, data=data, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                    return json.loads(response.read())
            except urllib.error.HTTPError as error:
                problem = _problem(error)
                retry = problem.get("type") in _RETRY or error.code in (502, 503, 504)
                if retry and attempt + 1 < RETRIES:
                    time.sleep(_retry_after(error, attempt))
                    continue
                raise Refused(
                    f"{error.code} {problem.get('title', error.reason)}: {problem.get('detail', '')}".rstrip(": ")
                ) from None
            except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
                if attempt + 1 < RETRIES:
                    time.sleep(2**attempt)
                    continue
                raise Refused(f"OneCard could not be reached: {getattr(error, 'reason', error)}") from None
        raise Refused("OneCard did not answer")


def _problem(error: urllib.error.HTTPError) -> dict:
    try:
        body = json.loads(error.read())
    except (ValueError, OSError):
        return {}
    return body if isinstance(body, dict) else {}


def _retry_after(error: urllib.error.HTTPError, attempt: int) -> float:
    try:
        return min(60.0, float(error.headers.get("Retry-After", "")))
    except ValueError:
        return float(2**attempt)


def match(gateway: Gateway, *, set_name: str, ids: list[str], progress=None) -> list[str]:
    """Return the IDs of IDS that are in OneCard's SET_NAME, in the order given; OneCard records each."""
    if not ids:
        return []
    # Run 1: this side is the PSI server over the list; OneCard's client learns which residents are on it.
    server = psi.server.CreateWithNewKey(True)
    setup = server.CreateSetupMessage(0.0, len(ids), ids, psi.DataStructure.RAW)
    step = gateway.post("/api/v1/matching/sessions", {"set": set_name, "setup": _encode(setup)})
    session = step["session"]
    while step["chunk"] is not None:
        if progress:
            progress(step["chunk"], step["chunks"])
        response = server.ProcessRequest(_decode(step["request"], psi.Request))
        step = gateway.post(
            f"/api/v1/matching/sessions/{session}/chunks/{step['chunk']}", {"response": _encode(response)}
        )
    # Run 2: this side is the PSI client over the same list; OneCard's server holds only the residents it found.
    client = psi.client.CreateWithNewKey(True)
    answer = gateway.post(
        f"/api/v1/matching/sessions/{session}/answer", {"request": _encode(client.CreateRequest(ids))}
    )
    found = client.GetIntersection(_decode(answer["setup"], psi.ServerSetup), _decode(answer["response"], psi.Response))
    return [ids[index] for index in sorted(found)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True, help="OneCard's address, e.g. https://onecard.example")
    parser.add_argument("--api-key", required=True, help="the agency's API key")
    parser.add_argument("--purpose", required=True, help="why the list is matched: a purpose code")
    parser.add_argument("--set", required=True, help="active-card, insured-months:N or grant-recipient:CODE")
    parser.add_argument("--case-id", help="the agency's own case number, written into each ledger entry")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    parser.add_argument("ids", metavar="IDS.csv", help="one national ID per line")
    args = parser.parse_args(argv)
    try:
        ids, problems, lines = ids_read(args.ids)
    except OSError as error:
        print(f"line 1: file: {error.strerror}", file=sys.stderr)
        return 1
    except ValueError as error:
        print(error, file=sys.stderr)
        return 1
    for problem in problems:
        print(problem, file=sys.stderr)
    if len(problems) * 2 > lines:
        print(f"{len(problems)} of {lines} lines are not valid national IDs: the list is refused", file=sys.stderr)
        return 1

    def progress(chunk: int, chunks: int) -> None:
        if not args.quiet:
            print(f"chunk {chunk + 1} of {chunks}", file=sys.stderr, flush=True)

    gateway = Gateway(args.base_url, args.api_key, args.purpose, args.case_id)
    try:
        matched = match(gateway, set_name=args.set, ids=ids, progress=progress)
    except Refused as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for national_id in matched:
        print(national_id)
    return 0


if __name__ == "__main__":
    sys.exit(main())
