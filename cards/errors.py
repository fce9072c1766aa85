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
