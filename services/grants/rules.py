"""Eligibility rules and amount formulas of grant programmes (documented in docs/grants.md).

Rules are built from the data-check predicates, so a grant asks the same
questions, answered by the same selectors, as a partner's data check.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from cards.models import Resident
from services.checks.predicates import PredicateCall, predicate_parse
from services.grants.models import Programme

MAX_DEPENDANTS = 10


@dataclass(frozen=True)
class RuleResult:
    rule: str
    passed: bool
    reason: str

    def as_dict(self) -> dict:
        return {"rule": self.rule, "passed": self.passed, "reason": self.reason}


def _predicate(text: str) -> PredicateCall:
    return predicate_parse(text)


def _ask(text: str, resident: Resident, on: datetime.date) -> bool:
    return bool(_predicate(text).answer(resident=resident, on=on))


def programme_rules(programme: Programme) -> list[str]:
    """Return the rule texts PROGRAMME applies, in the order they are checked."""
    rules = []
    if programme.age_min is not None:
        rules.append(f"age_gte:{programme.age_min}")
    if programme.age_max is not None:
        rules.append(f"age_lte:{programme.age_max}")
    if programme.province_code:
        rules.append(f"resident_of_province:{programme.province_code}")
    if programme.require_insured_medical:
        rules.append("insured_medical")
    if programme.contribution_months_min is not None:
        rules.append(f"contribution_months_gte:{programme.contribution_months_min}")
    if programme.income_ceiling is not None:
        rules.append(f"declared_income_lte:{programme.income_ceiling}")
    return rules


def eligibility_evaluate(
    *, programme: Programme, resident: Resident, declared_income: Decimal | None, on: datetime.date
) -> list[RuleResult]:
    """Check every rule of PROGRAMME for RESIDENT and say why each passed or failed; the caller records."""
    results = []
    for rule in programme_rules(programme):
        name, _colon, argument = rule.partition(":")
        if name == "age_lte":
            # No predicate asks "at most N"; it is "not at least N + 1".
            passed = not _ask(f"age_gte:{int(argument) + 1}", resident, on)
            reason = f"aged {argument} or younger" if passed else f"older than {argument}"
        elif name == "declared_income_lte":
            passed = declared_income is not None and declared_income <= Decimal(argument)
            reason = (
                "no income declared"
                if declared_income is None
                else f"declared income {declared_income} {'is within' if passed else 'exceeds'} the ceiling {argument}"
            )
        else:
            passed = _ask(rule, resident, on)
            description = _predicate(rule).predicate.description
            reason = f"{'yes' if passed else 'no'}: {description}"
        results.append(RuleResult(rule=rule, passed=passed, reason=reason))
    return results


def amount_compute(*, programme: Programme, declared_income: Decimal | None, dependants: int) -> Decimal:
    """Return the grant PROGRAMME's formula gives for this declared income and household."""
    base = programme.amount_base
    if programme.formula == Programme.Formula.PER_DEPENDANT:
        return base + programme.amount_per_dependant * min(dependants, MAX_DEPENDANTS)
    if programme.formula == Programme.Formula.INCOME_TOP_UP:
        gap = programme.income_ceiling - (declared_income or Decimal("0"))
        return max(Decimal("0.00"), min(base, gap))
    return base


def approvers_required(*, programme: Programme, amount: Decimal) -> int:
    """Return how many approvers an application of AMOUNT needs: two above the programme's threshold, else one."""
    return 2 if amount > programme.two_approvers_above else 1
