"""Domain errors of drug purchase; the API maps each to a problem type (docs/pharmacy.md)."""


class PharmacyError(Exception):
    """Base class for errors a pharmacy or a regulator can be shown."""


class NotAPharmacy(PharmacyError):
    """The calling agency is not a pharmacy."""


class TokenInvalid(PharmacyError):
    """The dynamic QR code is malformed, expired, already used, or its card is not active."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"the card's QR code was refused: {reason}")


class PhotoMissing(PharmacyError):
    """The session's cardholder has no approved card photo."""


class SessionInvalid(PharmacyError):
    """The session is unknown, belongs to another pharmacy, or has expired."""


class PrescriptionUnknown(PharmacyError):
    """The prescription does not exist or is not the session cardholder's."""


class ProductUnknown(PharmacyError):
    """No active restricted over-the-counter product has this code."""


class DispensingRefused(PharmacyError):
    """A dispensing rule refused the fill; nothing was dispensed."""

    slug = "dispensing-refused"


class PrescriptionNotDispensable(DispensingRefused):
    """The prescription is cancelled or past its validity."""

    slug = "prescription-not-dispensable"


class QuantityExceeded(DispensingRefused):
    """The fill is larger than one fill allows or than what remains of the prescription."""

    slug = "quantity-exceeded"


class IntervalNotElapsed(DispensingRefused):
    """The minimum interval since the prescription's last fill has not passed."""

    slug = "interval-not-elapsed"


class ControlledCapExceeded(DispensingRefused):
    """The fill breaks a controlled-drug rule: repeats, days' supply, or the resident's monthly cap."""

    slug = "controlled-cap"


class OtcLimitExceeded(DispensingRefused):
    """The purchase takes the resident over the period limit of a restricted over-the-counter product."""

    slug = "otc-limit"


class TraceabilityCodeUsed(DispensingRefused):
    """A box's traceability code was already sold somewhere in the country."""

    slug = "traceability-code-used"
