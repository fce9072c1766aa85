import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import AbstractAPIKey

from services.core import catalogue


def _validate_scope(value: str) -> None:
    if value not in catalogue.scopes_all():
        raise ValidationError(_("%(value)s is not a scope of any registered service"), params={"value": value})


def _validate_purpose(value: str) -> None:
    if value not in catalogue.purposes_all():
        raise ValidationError(_("%(value)s is not a registered purpose"), params={"value": value})


class Agency(models.Model):
    """A partner organisation that calls the API: a hospital, a bank, an auditor..."""

    class Kind(models.TextChoices):
        HOSPITAL = "hospital", _("hospital")
        PHARMACY = "pharmacy", _("pharmacy")
        EMPLOYER = "employer", _("employer")
        BANK = "bank", _("bank")
        INSURER = "insurer", _("insurer")
        GOVERNMENT = "government", _("government body")
        AUDITOR = "auditor", _("auditor")
        WITNESS = "witness", _("ledger witness")

    code = models.SlugField(
        _("code"),
        max_length=40,
        unique=True,
        help_text=_("Short name used in the ledger: lowercase letters, digits and hyphens."),
    )
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_zh_hans = models.CharField(_("name (Simplified Chinese)"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("Untick to refuse every call from this agency at once.")
    )
    throttle_rate = models.CharField(
        _("request limit"),
        max_length=20,
        blank=True,
        help_text=_("Requests allowed per period, e.g. '600/min' or '10000/day'. Empty: the default limit."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name_en} ({self.code})"

    def clean(self) -> None:
        if self.throttle_rate:
            number, _slash, period = self.throttle_rate.partition("/")
            if not number.isdigit() or not period or period[0] not in "smhd":
                raise ValidationError({"throttle_rate": _("Write it as a number, '/', and s, min, hour or day.")})


class AgencyScope(models.Model):
    """A scope granted to an agency."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="scope_grants", verbose_name=_("agency"))
    scope = models.CharField(_("scope"), max_length=64, validators=[_validate_scope])
    granted_at = models.DateTimeField(_("granted at"), auto_now_add=True)

    class Meta:
        verbose_name = _("granted scope")
        verbose_name_plural = _("granted scopes")
        ordering = ["scope"]
        constraints = [models.UniqueConstraint(fields=["agency", "scope"], name="core_agency_scope_unique")]

    def __str__(self) -> str:
        return self.scope


class AgencyPurpose(models.Model):
    """A purpose an agency may name in X-Purpose (its partner policy)."""

    agency = models.ForeignKey(
        Agency, on_delete=models.CASCADE, related_name="purpose_grants", verbose_name=_("agency")
    )
    purpose = models.CharField(_("purpose"), max_length=64, validators=[_validate_purpose])
    granted_at = models.DateTimeField(_("granted at"), auto_now_add=True)

    class Meta:
        verbose_name = _("allowed purpose")
        verbose_name_plural = _("allowed purposes")
        ordering = ["purpose"]
        constraints = [models.UniqueConstraint(fields=["agency", "purpose"], name="core_agency_purpose_unique")]

    def __str__(self) -> str:
        return self.purpose


class AgencyKey(AbstractAPIKey):
    """An agency's API key: only the prefix and a hash are stored."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="keys", verbose_name=_("agency"))
    # djangorestframework-api-key names these fields without marking them for translation; same fields, named.
    prefix = models.CharField(_("prefix"), max_length=8, unique=True, editable=False)
    created = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    name = models.CharField(
        _("name"),
        max_length=50,
        blank=False,
        default=None,
        help_text=_("A free-form name for the API key. Need not be unique. 50 characters max."),
    )
    revoked = models.BooleanField(
        _("revoked"),
        blank=True,
        default=False,
        help_text=_("If the API key is revoked, clients cannot use it anymore. (This cannot be undone.)"),
    )

    class Meta(AbstractAPIKey.Meta):
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")


class Consent(models.Model):
    """A resident's consent for one agency to use one scope for one purpose."""

    receipt_id = models.UUIDField(_("receipt id"), default=uuid.uuid4, unique=True, editable=False)
    resident = models.ForeignKey(
        "cards.Resident", on_delete=models.PROTECT, related_name="consents", verbose_name=_("resident")
    )
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="consents", verbose_name=_("agency"))
    scope = models.CharField(_("scope"), max_length=64, validators=[_validate_scope])
    purpose = models.CharField(_("purpose"), max_length=64, validators=[_validate_purpose])
    granted_at = models.DateTimeField(_("granted"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-granted_at", "-id"]
        indexes = [models.Index(fields=["resident", "agency", "scope", "purpose"])]

    def __str__(self) -> str:
        return _("%(agency)s %(scope)s for %(purpose)s") % {
            "agency": self.agency.code,
            "scope": self.scope,
            "purpose": self.purpose,
        }

    def is_active(self, *, at=None) -> bool:
        at = at or timezone.now()
        return self.revoked_at is None and self.granted_at <= at and (self.expires_at is None or self.expires_at > at)

    def clean(self) -> None:
        if self.scope and self.purpose and not catalogue.purpose_allows_scope(self.purpose, self.scope):
            raise ValidationError(
                {"purpose": _("This purpose does not allow the scope %(scope)s.") % {"scope": self.scope}}
            )
        if self.expires_at and self.granted_at and self.expires_at <= self.granted_at:
            raise ValidationError({"expires_at": _("A consent must expire after it is granted.")})


class IdempotentRequest(models.Model):
    """The first response to a POST carrying an Idempotency-Key, replayed for repeats."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="+", verbose_name=_("agency"))
    key = models.CharField(_("key"), max_length=255)
    method = models.CharField(_("method"), max_length=8)
    path = models.CharField(_("path"), max_length=500)
    fingerprint = models.CharField(_("fingerprint"), max_length=64)
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True)
    content_type = models.CharField(_("content type"), max_length=100, blank=True)
    # AES-256-GCM sealed (cards.crypto): the response body, the ledger accesses the request recorded
    # and the consents it relied on. The body can hold a resident's data.
    body = models.BinaryField(_("body"), default=b"")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("idempotent request")
        verbose_name_plural = _("idempotent requests")
        constraints = [models.UniqueConstraint(fields=["agency", "key"], name="core_idempotency_key_unique")]

    def __str__(self) -> str:
        return f"{self.agency_id} {self.key}"

    @property
    def seal_label(self) -> bytes:
        """Return the associated data that binds the sealed body to this record."""
        return f"onecard:idempotent-response:{self.pk}".encode()
