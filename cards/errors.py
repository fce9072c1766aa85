"""Domain errors raised by the cards app."""


class CardsError(Exception):
    """Base class for errors a caller can show to a person."""


class ResidentAlreadyRegistered(CardsError):
    """A resident with this national ID is already in the register."""


class ResidentInvalid(CardsError):
    """A resident record has invalid fields."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))


class ImportRejected(CardsError):
    """A file of residents had problems, so nothing was saved."""

    def __init__(self, problems: list[tuple[int, str, str]]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s); nothing was saved")


class CardTransitionRefused(CardsError):
    """The card's status does not allow the requested change."""

    def __init__(self, *, verb: str, status: str) -> None:
        self.verb = verb
        self.status = status
        super().__init__(f"a {status} card cannot be {verb}")


class CardAlreadyIssued(CardsError):
    """The resident already holds a card that is pending, active or suspended."""


class CardReasonInvalid(CardsError):
    """The reason given for a card change is not in the vocabulary."""


class ActivationCodeInvalid(CardsError):
    """The activation code is wrong, used up, or expired."""


class SigningKeyUnknown(CardsError):
    """No signing key has this kid, or it is already retired."""


class PhotoInvalid(CardsError):
    """An uploaded photo is not a usable JPEG or PNG; the message says why."""


class PhotoTransitionRefused(CardsError):
    """The photo is not waiting for a decision, so it cannot be approved or rejected."""


class HolderKeyInvalid(CardsError):
    """The wallet's key is not a public Ed25519 or P-256 JWK."""


class IssuanceRefused(CardsError):
    """An OpenID4VCI request is refused with the OAuth error code the specification names for it."""

    def __init__(self, error: str, description: str, *, status: int = 400) -> None:
        self.error = error
        self.description = description
        self.status = status
        super().__init__(f"{error}: {description}")
