"""The problem types of drug purchase (docs/pharmacy.md), each mapped from its domain error."""

from django.utils.translation import gettext_lazy as _

from services.core.api.problems import problem_define
from services.pharmacy import errors

TokenInvalid = problem_define(
    "token-invalid", 400, _("The QR code is invalid, expired or already used"), domain_errors=(errors.TokenInvalid,)
)
NotAPharmacy = problem_define(
    "not-a-pharmacy", 403, _("Only a pharmacy may do this"), domain_errors=(errors.NotAPharmacy,)
)
SessionInvalid = problem_define(
    "session-invalid",
    409,
    _("The session is unknown to this pharmacy or has expired"),
    domain_errors=(errors.SessionInvalid,),
)
PrescriptionUnknown = problem_define(
    "prescription-unknown",
    404,
    _("The cardholder has no such prescription"),
    domain_errors=(errors.PrescriptionUnknown,),
)
ProductUnknown = problem_define(
    "product-unknown", 404, _("No restricted product on sale has this code"), domain_errors=(errors.ProductUnknown,)
)
PrescriptionNotDispensable = problem_define(
    "prescription-not-dispensable",
    409,
    _("The prescription is cancelled or past its validity"),
    domain_errors=(errors.PrescriptionNotDispensable,),
)
QuantityExceeded = problem_define(
    "quantity-exceeded",
    409,
    _("The fill is larger than the prescription allows"),
    domain_errors=(errors.QuantityExceeded,),
)
IntervalNotElapsed = problem_define(
    "interval-not-elapsed",
    409,
    _("The minimum interval since the last fill has not passed"),
    domain_errors=(errors.IntervalNotElapsed,),
)
ControlledCap = problem_define(
    "controlled-cap",
    409,
    _("The fill breaks a controlled-drug limit"),
    domain_errors=(errors.ControlledCapExceeded,),
)
OtcLimit = problem_define(
    "otc-limit",
    409,
    _("The purchase exceeds the resident's limit for this restricted product"),
    domain_errors=(errors.OtcLimitExceeded,),
)
TraceabilityCodeUsed = problem_define(
    "traceability-code-used",
    409,
    _("A box with this traceability code was already sold"),
    domain_errors=(errors.TraceabilityCodeUsed,),
)
PhotoMissing = problem_define(
    "photo-missing", 404, _("The cardholder has no approved card photo"), domain_errors=(errors.PhotoMissing,)
)
