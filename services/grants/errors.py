"""Domain errors of grants; the API and the admin show each as a message."""


class GrantsError(Exception):
    """Base class for errors a caller can show to a resident, a caseworker or a partner."""


class ProgrammeInvalid(GrantsError):
    """A programme's settings contradict each other."""


class ApplicationInvalid(GrantsError):
    """An application cannot be made as asked."""


class ApplicationExists(GrantsError):
    """The resident already applied to this programme."""


class ProgrammeClosed(GrantsError):
    """The programme is not taking applications today."""


class TransitionNotAllowed(GrantsError):
    """The application's state does not allow the requested change."""

    def __init__(self, *, status: str, to: str) -> None:
        self.status = status
        self.to = to
        super().__init__(f"an application that is {status} cannot become {to}")


class SignOffRefused(GrantsError):
    """The caseworker may not sign this step: a maker never checks their own work."""


class BudgetExceeded(GrantsError):
    """Approving would take the programme over its budget cap."""


class DisbursementUnknown(GrantsError):
    """No disbursement has this reference for this agency."""


class DisbursementConflict(GrantsError):
    """The disbursement was already confirmed with another outcome."""


class CycleNotApproved(GrantsError):
    """A payment cycle's batch was asked to run before another caseworker signed the cycle off."""
