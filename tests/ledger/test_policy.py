import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core import checks

from ledger.policy import PolicyError, policy_parse
from ledger.tools.onecard_witness import verifier_key


def _key(name):
    return verifier_key(name, Ed25519PrivateKey.generate())


def test_a_two_of_three_group_is_met_by_two_witnesses_and_not_by_one():
    policy = policy_parse(
        f"# witnesses\nwitness a {_key('a.example/w')} https://a.example\n"
        f"witness b {_key('b.example/w')} https://b.example\nwitness c {_key('c.example/w')} https://c.example\n"
        "group two 2 a b c\nquorum two\n"
    )

    assert policy.satisfied({"a", "c"})
    assert not policy.satisfied({"b"})
    assert policy.witness_by_key_name("b.example/w").url == "https://b.example"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("witness a x\nquorum a\n", "line 1"),
        ("quorum nobody\n", "line 1: quorum <name defined above, or none>"),
        ("group g 3 a\nquorum g\n", "line 1"),
        ("witness a {a}\n", "the policy needs one quorum line"),
        ("quorum none\nquorum none\n", "line 2: only one quorum line"),
        ("frobnicate\nquorum none\n", "line 1: unknown keyword"),
    ],
)
def test_a_malformed_policy_names_its_line(text, message):
    with pytest.raises(PolicyError, match=message):
        policy_parse(text.format(a=_key("a.example/w")))


def test_deploy_check_warns_about_a_policy_without_a_quorum(settings):
    settings.ONECARD_LEDGER_WITNESS_POLICY = "quorum none\n"

    found = checks.run_checks(include_deployment_checks=True)

    assert "ledger.W001" in [message.id for message in found]


def test_a_policy_witness_without_a_url_is_an_error(settings):
    settings.ONECARD_LEDGER_WITNESS_POLICY = f"witness a {_key('a.example/w')}\nquorum a\n"

    found = checks.run_checks()

    assert "ledger.E003" in [message.id for message in found]
