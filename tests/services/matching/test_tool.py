"""The partner's standalone client, run as a real program against a live OneCard."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.api import subject_pseudonym
from services.matching.tools import onecard_match as tool
from tests.factories import ResidentFactory
from tests.factories.cards import CardFactory
from tests.factories.core import agency_with_key
from tests.idnumbers import make_national_id
from tests.services.matching.conftest import PURPOSE, SCOPES

TOOL = Path(tool.__file__)


def run(*arguments, timeout=300):
    return subprocess.run(
        [sys.executable, "-I", str(TOOL), *arguments], capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.mark.django_db(transaction=True)
def test_the_tool_prints_the_matched_ids_and_only_they_are_recorded(live_server, tmp_path, ledger_sequenced):
    agency, key = agency_with_key(kind="government", scopes=SCOPES, purposes=[PURPOSE])
    holders = [CardFactory().resident for _ in range(3)]
    others = [ResidentFactory() for _ in range(2)]
    stranger = make_national_id(county="310104", birth="19850505", sequence=5)
    listed = [holders[0], others[0], holders[2], others[1]]
    ids = tmp_path / "ids.csv"
    ids.write_text("national_id\n" + "\n".join([*(r.national_id for r in listed), stranger]) + "\n")

    result = run(
        "--base-url", live_server.url, "--api-key", key, "--purpose", PURPOSE, "--set", "active-card", str(ids)
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [holders[0].national_id, holders[2].national_id]
    entries = ledger_sequenced(action="matching.active_card.match")
    assert sorted(e["subject"] for e in entries) == sorted(subject_pseudonym(r) for r in (holders[0], holders[2]))
    assert all(e["actor"]["id"] == agency.code for e in entries)


def test_the_tool_refuses_a_list_that_is_mostly_malformed_without_contacting_onecard(tmp_path):
    ids = tmp_path / "ids.csv"
    ids.write_text(make_national_id(sequence=1) + "\n123\n11010519900307123Y\n")

    # Port 9 (discard) refuses connections: reaching it would be a different error.
    result = run(
        "--base-url", "http://127.0.0.1:9", "--api-key", "k.k", "--purpose", PURPOSE, "--set", "active-card", str(ids)
    )

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "line 2: national_id: must be 18 characters, not 3",
        "line 3: national_id: must be 17 digits followed by a digit or X",
        "2 of 3 lines are not valid national IDs: the list is refused",
    ]


def test_the_tool_says_why_onecard_refused(live_server, tmp_path, transactional_db):
    _agency, key = agency_with_key(kind="government", scopes=["matching:insured-months"], purposes=[PURPOSE])
    ids = tmp_path / "ids.csv"
    ids.write_text(make_national_id(sequence=1) + "\n")

    result = run(
        "--base-url", live_server.url, "--api-key", key, "--purpose", PURPOSE, "--set", "active-card", str(ids)
    )

    assert result.returncode == 2
    assert result.stderr.startswith("error: 403 The agency may not match against this set for this purpose:")


def test_the_tool_needs_no_django():
    project = ("django", "services", "cards", "ledger", "portal")
    probe = (
        f"import json, sys; sys.path.insert(0, {str(TOOL.parent)!r}); import onecard_match; "
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {project!r})))"
    )

    result = subprocess.run([sys.executable, "-I", "-c", probe], capture_output=True, text=True, check=True)

    assert json.loads(result.stdout) == []
