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

    national_id_ciphertext = models.BinaryField(editable=False)
    national_id_hash = models.CharField(max_length=64, unique=True, editable=False)
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
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

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

    @property
    def ledger_subject(self) -> str:
        """Return the stable reference the ledger pseudonymises for this resident."""
        return f"resident:{self.pk}"
