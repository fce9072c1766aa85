"""The witness policy: which witnesses cosign this log and how many must, in c2sp.org/tlog-policy form.

A policy file reads, for example::

    log onecard.example/ledger+1a2b3c4d+AX…
    witness audit-office audit.example/w1+…+BA… https://witness.audit.example
    witness dpa dpa.example/w1+…+BA… https://witness.dpa.example
    witness court court.example/w1+…+BA… https://witness.court.example
    group two-of-three 2 audit-office dpa court
    quorum two-of-three

A witness URL is its tlog-witness submission prefix. A checkpoint is
published only once the quorum cosigned it; ``quorum none`` publishes every
checkpoint unwitnessed.
"""

from dataclasses import dataclass, field
from pathlib import Path

from ledger import note


class PolicyError(ValueError):
    """The policy file is malformed."""


@dataclass(frozen=True)
class PolicyWitness:
    """One witness of the policy: NAME in the policy, KEY_NAME in its signature lines."""

    name: str
    verifier_key: str
    key_name: str
    public_key: bytes
    url: str = ""
    # An in-process witness of the embedded default keeps its state here (see ledger.witnessing).
    directory: Path | None = None


@dataclass
class Policy:
    logs: list[str] = field(default_factory=list)
    witnesses: dict[str, PolicyWitness] = field(default_factory=dict)
    # name -> (threshold, members)
    groups: dict[str, tuple[int, list[str]]] = field(default_factory=dict)
    quorum: str = "none"

    def witness_by_key_name(self, key_name: str) -> PolicyWitness | None:
        """Return the witness whose signature lines carry KEY_NAME."""
        for witness in self.witnesses.values():
            if witness.key_name == key_name:
                return witness
        return None

    def satisfied(self, cosigners: set[str]) -> bool:
        """Return whether cosignatures by the witnesses named COSIGNERS (policy names) meet the quorum."""
        return self._met(self.quorum, cosigners)

    def _met(self, name: str, cosigners: set[str]) -> bool:
        if name == "none":
            return True
        if name in self.witnesses:
            return name in cosigners
        threshold, members = self.groups[name]
        return sum(self._met(member, cosigners) for member in members) >= threshold

    @property
    def needs_witnesses(self) -> bool:
        return self.quorum != "none"


def policy_parse(text: str) -> Policy:
    """Return the policy in TEXT, or raise PolicyError naming the line."""
    policy = Policy()
    quorum_seen = False
    for number, raw in enumerate(text.split("\n"), start=1):
        words = raw.split()
        if not words or words[0].startswith("#"):
            continue
        try:
            _line_apply(policy, words, quorum_seen)
        except (PolicyError, note.NoteError) as error:
            raise PolicyError(f"line {number}: {error}") from None
        quorum_seen = quorum_seen or words[0] == "quorum"
    if not quorum_seen:
        raise PolicyError("the policy needs one quorum line")
    return policy


def _line_apply(policy: Policy, words: list[str], quorum_seen: bool) -> None:
    keyword, arguments = words[0], words[1:]
    defined = set(policy.witnesses) | set(policy.groups)
    if keyword == "log":
        if not 1 <= len(arguments) <= 2:
            raise PolicyError("log <vkey> [<url>]")
        note.verifier_key_parse(arguments[0])
        policy.logs.append(arguments[0])
    elif keyword == "witness":
        if not 2 <= len(arguments) <= 3:
            raise PolicyError("witness <name> <vkey> [<url>]")
        name, key = arguments[0], arguments[1]
        if name in defined or name == "none":
            raise PolicyError(f"{name!r} is defined twice")
        key_name, algorithm, public = note.verifier_key_parse(key)
        if algorithm != note.ALGORITHM_COSIGNATURE_V1:
            raise PolicyError("a witness key must be a cosignature/v1 key (algorithm 0x04)")
        if any(witness.public_key == public for witness in policy.witnesses.values()):
            raise PolicyError("two witnesses with one key")
        url = arguments[2].rstrip("/") if len(arguments) == 3 else ""
        policy.witnesses[name] = PolicyWitness(name, key, key_name, public, url)
    elif keyword == "group":
        if len(arguments) < 3:
            raise PolicyError("group <name> all|any|<k> <name>...")
        name, threshold, members = arguments[0], arguments[1], arguments[2:]
        if name in defined or name == "none":
            raise PolicyError(f"{name!r} is defined twice")
        unknown = [member for member in members if member not in defined]
        if unknown or len(set(members)) != len(members):
            raise PolicyError("a group lists names defined above, each once")
        if threshold == "all":
            count = len(members)
        elif threshold == "any":
            count = 1
        elif threshold.isdigit() and 1 <= int(threshold) <= len(members):
            count = int(threshold)
        else:
            raise PolicyError(f"the threshold must be all, any or 1 to {len(members)}")
        policy.groups[name] = (count, members)
    elif keyword == "quorum":
        if quorum_seen:
            raise PolicyError("only one quorum line")
        if len(arguments) != 1 or (arguments[0] != "none" and arguments[0] not in defined):
            raise PolicyError("quorum <name defined above, or none>")
        policy.quorum = arguments[0]
    else:
        raise PolicyError(f"unknown keyword {keyword!r}")
