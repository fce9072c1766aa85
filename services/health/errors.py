"""Domain errors of health; the API maps each to a problem type."""


class HealthError(Exception):
    """Base class for errors a caller can show to a partner or an officer."""


class HealthRecordInvalid(HealthError):
    """A visit or prescription has invalid fields."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{field}: {' '.join(messages)}" for field, messages in errors.items()))


class ResidentUnknown(HealthError):
    """No registered resident has the national ID a hospital sent."""
