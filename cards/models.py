import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cards.crypto import national_id_decrypt, national_id_encrypt, national_id_lookup_hash
from cards.national_id import mask_national_id, parse_national_id


class Resident(models.Model):
    """A person in the resident register.

    The national ID is never stored in clear: ``national_id_ciphertext`` holds it
    under AES-256-GCM and ``national_id_hash`` is a keyed HMAC used for exact
    lookups and uniqueness.
    """

    class Sex(models.TextChoices):
        MALE = "M", _("male")
        FEMALE = "F", _("female")

    national_id_ciphertext = models.BinaryField(_("national id ciphertext"), editable=False)
    national_id_hash = models.CharField(_("national id hash"), max_length=64, unique=True, editable=False)
    full_name = models.CharField(_("full name"), max_length=100)
    phone = models.CharField(_("phone"), max_length=20, blank=True, db_index=True)
    email = models.EmailField(_("email"), blank=True)
    birth_date = models.DateField(_("birth date"), editable=False)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, editable=False)
    province_code = models.CharField(_("province code"), max_length=2, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="resident",
        verbose_name=_("user"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        ordering = ["id"]
        indexes = [models.Index(fields=["full_name"])]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.national_id_masked})"

    def set_national_id(self, value: str) -> None:
        """Validate VALUE, store it encrypted, and derive birth date, sex and province."""
        parsed = parse_national_id(value)
        self.national_id_ciphertext = national_id_encrypt(parsed.number)
        self.national_id_hash = national_id_lookup_hash(parsed.number)
        self.birth_date = parsed.birth_date
        self.sex = parsed.sex
        self.province_code = parsed.province_code

    @property
    def national_id(self) -> str:
        return national_id_decrypt(self.national_id_ciphertext)

    @property
    def national_id_masked(self) -> str:
        return mask_national_id(self.national_id)

    national_id_masked.fget.short_description = _("national ID")  # the admin's column and field label

    @property
    def ledger_subject(self) -> str:
        """Return the stable reference the ledger pseudonymises for this resident."""
        return f"resident:{self.pk}"


STATUS_LIST_SIZE_DEFAULT = 2**24


def status_list_size() -> int:
    """Return how many entries the Token Status List has: the space card indices are drawn from."""
    return int(getattr(settings, "ONECARD_STATUS_LIST_SIZE", STATUS_LIST_SIZE_DEFAULT))


def status_index_draw(*, attempts: int = 16) -> int:
    """Return a random index of the Token Status List that no card holds yet.

    The unique constraint on ``Card.status_index`` settles the rare race of two
    cards drawing the same free index at the same moment (cards.actions retries).
    """
    size = status_list_size()
    for _attempt in range(attempts):
        index = secrets.randbelow(size)
        if not Card.objects.filter(status_index=index).exists():
            return index
    raise RuntimeError(f"no free Token Status List index after {attempts} draws: raise ONECARD_STATUS_LIST_SIZE")


class Card(models.Model):
    """A resident's one card: a Luhn-checked number, its version, and where it is in its lifecycle.

    A reissue either bumps the version (same number) or starts a new number at
    version 1; (number, version) is unique and a number belongs to one resident.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("pending activation")
        ACTIVE = "active", _("active")
        SUSPENDED = "suspended", _("suspended")
        LOST = "lost", _("reported lost")
        REVOKED = "revoked", _("revoked")
        EXPIRED = "expired", _("expired")
        REPLACED = "replaced", _("replaced")

    IN_FORCE = (Status.ACTIVE, Status.SUSPENDED)

    number = models.CharField(_("card number"), max_length=19, db_index=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="cards", verbose_name=_("resident"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    status_reason = models.CharField(_("reason of the last change"), max_length=32, blank=True)
    issued_on = models.DateField(_("issued on"))
    expires_on = models.DateField(_("expires on"))
    activated_at = models.DateTimeField(_("activated at"), null=True, blank=True)
    replaced_by = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replaces",
        editable=False,
        verbose_name=_("replaced by"),
    )
    activation_code_hash = models.CharField(_("activation code hash"), max_length=64, blank=True, editable=False)
    activation_code_expires_at = models.DateTimeField(
        _("activation code expires at"), null=True, blank=True, editable=False
    )
    activation_attempts = models.PositiveSmallIntegerField(_("activation attempts"), default=0, editable=False)
    # The card's entry in the Token Status List ("idx" in its credentials): drawn at random from the list's
    # size when the card is created, so an index tells nothing of when the card was issued or how many exist.
    status_index = models.PositiveIntegerField(_("status list index"), unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("card")
        verbose_name_plural = _("cards")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["number", "version"], name="cards_card_number_version_unique"),
            models.UniqueConstraint(
                fields=["resident"],
                condition=models.Q(status__in=["active", "suspended"]),
                name="cards_card_one_in_force_per_resident",
            ),
        ]

    def __str__(self) -> str:
        return _("card %(number)s v%(version)s (%(status)s)") % {
            "number": self.number_display,
            "version": self.version,
            "status": self.get_status_display(),
        }

    def save(self, *args, **kwargs) -> None:
        if self.status_index is None:
            self.status_index = status_index_draw()
        super().save(*args, **kwargs)

    @property
    def number_display(self) -> str:
        """Return the number in groups of four, as printed."""
        return " ".join(self.number[i : i + 4] for i in range(0, len(self.number), 4))

    number_display.fget.short_description = _("card number")  # the admin's column and field label

    @property
    def ledger_object(self) -> str:
        return f"card:{self.pk}"


class CardSigningKey(models.Model):
    """An Ed25519 key that signs card credentials, its private half sealed under the key-encryption key.

    The newest key that is not retired signs; every key not retired verifies
    and is published in the JWKS.
    """

    kid = models.CharField(_("kid"), max_length=64, unique=True)
    public_key = models.BinaryField(_("public key"))
    private_key_ciphertext = models.BinaryField(_("private key ciphertext"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)

    class Meta:
        verbose_name = _("card signing key")
        verbose_name_plural = _("card signing keys")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        if self.retired_at:
            return _("signing key %(kid)s (retired)") % {"kid": self.kid}
        return _("signing key %(kid)s") % {"kid": self.kid}


class CardRedemption(models.Model):
    """One use of a dynamic credential; the unique jti makes a second use fail in the database."""

    jti = models.CharField(_("jti"), max_length=64, unique=True)
    card = models.ForeignKey(Card, on_delete=models.PROTECT, related_name="redemptions", verbose_name=_("card"))
    redeemed_at = models.DateTimeField(_("redeemed at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    redeemed_by = models.CharField(_("redeemed by"), max_length=80)

    class Meta:
        verbose_name = _("card redemption")
        verbose_name_plural = _("card redemptions")
        ordering = ["-id"]

    def __str__(self) -> str:
        return _("redemption %(jti)s") % {"jti": self.jti}


class CredentialOffer(models.Model):
    """An OpenID4VCI pre-authorized code offer the resident made for a wallet; the code and its token are one use.

    Only SHA-256 digests of the code and the access token are stored: both are 256-bit random secrets.
    """

    card = models.ForeignKey(Card, on_delete=models.PROTECT, related_name="credential_offers")
    code_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    redeemed_at = models.DateTimeField(null=True, blank=True)
    access_token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    access_token_expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("credential offer")
        verbose_name_plural = _("credential offers")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"credential offer {self.pk} for card {self.card_id}"


class CredentialNonce(models.Model):
    """A c_nonce from the OpenID4VCI nonce endpoint: a key proof must carry it, and it is used once."""

    value_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("credential nonce")
        verbose_name_plural = _("credential nonces")

    def __str__(self) -> str:
        return f"nonce {self.value_hash[:12]}"


class CardPayment(models.Model):
    """Money credited to a card's account, e.g. a grant; the unique reference makes a second credit fail."""

    card = models.ForeignKey(Card, on_delete=models.PROTECT, related_name="payments", verbose_name=_("card"))
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    reference = models.CharField(_("reference"), max_length=80, unique=True)
    description_en = models.CharField(_("description (English)"), max_length=200)
    description_zh_hans = models.CharField(_("description (Simplified Chinese)"), max_length=200)
    credited_at = models.DateTimeField(_("credited at"), auto_now_add=True)

    class Meta:
        verbose_name = _("card payment")
        verbose_name_plural = _("card payments")
        ordering = ["-credited_at", "-id"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="cards_payment_amount_positive")]

    def __str__(self) -> str:
        return _("%(amount)s %(currency)s to %(card)s") % {
            "amount": self.amount,
            "currency": self.currency,
            "card": self.card,
        }


class ResidentPhoto(models.Model):
    """A resident's card photo: a re-encoded JPEG sealed at rest, never served from a public URL.

    A caseworker's upload is approved at once; a resident's waits for a
    caseworker. At most one photo per resident is approved (the one printed
    and shown); approving another supersedes it.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting for approval")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")
        SUPERSEDED = "superseded", _("superseded")

    class Source(models.TextChoices):
        CASEWORKER = "caseworker", _("caseworker")
        RESIDENT = "resident", _("resident")

    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="photos", verbose_name=_("resident"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    source = models.CharField(_("submitted by"), max_length=16, choices=Source.choices)
    # version || nonce || AES-256-GCM(JPEG), associated data bound to the resident (cards/photos.py).
    jpeg_ciphertext = models.BinaryField(_("jpeg ciphertext"), editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    erased_at = models.DateTimeField(
        _("image erased at"),
        null=True,
        blank=True,
        help_text=_("A rejected or superseded photo's image is erased after the retention period; the row stays."),
    )

    class Meta:
        verbose_name = _("resident photo")
        verbose_name_plural = _("resident photos")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["resident"],
                condition=models.Q(status="approved"),
                name="cards_photo_one_approved_per_resident",
            ),
        ]

    def __str__(self) -> str:
        return _("photo %(photo)s of resident %(resident)s (%(status)s)") % {
            "photo": self.pk,
            "resident": self.resident_id,
            "status": self.get_status_display(),
        }

    @property
    def ledger_object(self) -> str:
        return f"photo:{self.pk}"
