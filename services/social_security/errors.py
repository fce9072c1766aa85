"""Domain errors of social security; the API maps each to a problem type."""


class SocialSecurityError(Exception):
    """Base class for errors a caller can show to a partner, a caseworker or a resident."""


class BatchRejected(SocialSecurityError):
    """A batch had problems, so nothing in it was saved."""

    def __init__(self, problems: list[tuple[int | None, str, str]], *, residents=()) -> None:
        self.problems = sorted(problems, key=lambda problem: (problem[0] is not None, problem[0] or 0, problem[1]))
        # The registered residents the batch named: the rejection is recorded in their ledgers.
        self.residents = list({resident.pk: resident for resident in residents}.values())
        super().__init__(f"{len(self.problems)} problem(s) in the batch; nothing was saved")

    @property
    def messages(self) -> list[str]:
        """Return each problem as 'items[N].field: message'."""
        return [
            f"items[{index}].{field}: {message}" if index is not None else f"{field}: {message}"
            for index, field, message in self.problems
        ]


class ClaimInvalid(SocialSecurityError):
    """A claim cannot be submitted as asked."""


class ClaimAlreadyOpen(SocialSecurityError):
    """The resident already has a claim awaiting assessment or a decision."""


class ClaimNotDecidable(SocialSecurityError):
    """The claim is not in a state a caseworker can decide."""
