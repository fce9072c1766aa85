"""Why a card changed status: a fixed vocabulary, so ledger entries never carry free text."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CardReason(models.TextChoices):
    FIRST_ISSUE = "first-issue", _("first issue")
    RESIDENT_REQUEST = "resident-request", _("at the resident's request")
    ACTIVATED = "activated", _("activated by the resident")
    REPORTED_LOST = "reported-lost", _("reported lost or stolen")
    DAMAGED = "damaged", _("damaged")
    SUSPECTED_FRAUD = "suspected-fraud", _("suspected fraud")
    INVESTIGATION_CLOSED = "investigation-closed", _("investigation closed")
    DETAILS_CHANGED = "details-changed", _("details on the card changed")
    DECEASED = "deceased", _("the resident died")
    ISSUED_IN_ERROR = "issued-in-error", _("issued in error")
    RENEWAL = "renewal", _("renewal")
    EXPIRED = "expired", _("reached its expiry date")
    ADMINISTRATIVE = "administrative", _("administrative decision")
