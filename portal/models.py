import os
import time
from base64 import b32encode
from urllib.parse import quote, urlencode

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.oath import TOTP

from cards.crypto import resident_data_open, resident_data_seal, secret_keyed_hash

TOTP_KEY_LABEL = b"onecard:otp.totp_key"
BACKUP_CODE_HASH_CONTEXT = "otp.backup_code"


class UserManager(DjangoUserManager):
    """Load each user with their resident record, if any.

    Every signed-in request loads the user through this manager
    (ModelBackend.get_user) and then asks for the resident (the ledger's actor,
    the resident pages): one query instead of two. A queryset that defers
    fields must keep ``resident`` or call ``select_related(None)``, and
    ``select_for_update()`` needs ``of=("self",)`` (the join is an outer join).
    """

    def get_queryset(self):
        return super().get_queryset().select_related("resident")


class User(AbstractUser):
    """A person who signs in to OneCard: a resident or a member of staff."""

    objects = UserManager()

    class Meta(AbstractUser.Meta):
        db_table = "portal_user"


class AccessReport(models.Model):
    """A resident's report that they do not recognise an access to their data, for caseworkers to look into.

    The ledger has no foreign keys pointing into it: the entry is named by its
    index once sequenced, and described by a copy of what the resident saw.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        INVESTIGATING = "investigating", _("being investigated")
        EXPLAINED = "explained", _("explained")
        UPHELD = "upheld", _("upheld: the access was not allowed")
        REPLIED = "replied", _("the resident replied to the answer")

    resident = models.ForeignKey(
        "cards.Resident", on_delete=models.PROTECT, related_name="access_reports", verbose_name=_("resident")
    )
    entry_index = models.BigIntegerField(_("ledger entry index"), null=True, blank=True, db_index=True)
    entry_summary = models.CharField(_("entry as shown to the resident"), max_length=500)
    text = models.TextField(_("what the resident says"), max_length=2000)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    caseworker_note = models.TextField(_("caseworker's answer"), blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    # The resident may reply once to the answer; the reply sends the report back to the caseworkers' worklist.
    resident_reply = models.TextField(_("the resident's reply"), max_length=2000, blank=True)
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    created_at = models.DateTimeField(_("reported at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("unrecognised access report")
        verbose_name_plural = _("unrecognised access reports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return _("report #%(id)s (%(status)s)") % {"id": self.pk, "status": self.get_status_display()}

    @property
    def answered(self) -> bool:
        """Return whether a caseworker has given the resident an answer."""
        return bool(self.caseworker_note) and self.answered_at is not None

    @property
    def may_reply(self) -> bool:
        """Return whether the resident may still reply: once, to an answer."""
        return self.answered and self.replied_at is None


class NotificationSetting(models.Model):
    """How a resident wants to be told about accesses to their data by organisations: channel, how often, language.

    ``sent_through_index`` is the last ledger index a digest has covered: the next digest
    tells only of later entries, so no access is told twice.
    """

    class Channel(models.TextChoices):
        EMAIL = "email", _("e-mail")
        SMS = "sms", _("text message (SMS)")

    class Frequency(models.TextChoices):
        NEVER = "never", _("never")
        DAILY = "daily", _("once a day")
        WEEKLY = "weekly", _("once a week")

    resident = models.OneToOneField("cards.Resident", on_delete=models.CASCADE, related_name="notification_setting")
    channel = models.CharField(_("how"), max_length=8, choices=Channel.choices, default=Channel.EMAIL)
    frequency = models.CharField(_("how often"), max_length=8, choices=Frequency.choices, default=Frequency.NEVER)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="en")
    sent_through_index = models.BigIntegerField(default=-1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("notification setting")
        verbose_name_plural = _("notification settings")

    def __str__(self) -> str:
        return f"notification setting #{self.pk} ({self.frequency} by {self.channel})"


class AccessDigest(models.Model):
    """One message telling a resident who accessed their data: ledger entries after FROM_INDEX up to THROUGH_INDEX.

    Made once per resident and period (``period``: a date, or an ISO week); it keeps its text so a
    retry sends the very same message, and ``sent_at`` so it is never sent twice.
    """

    resident = models.ForeignKey("cards.Resident", on_delete=models.CASCADE, related_name="access_digests")
    channel = models.CharField(max_length=8, choices=NotificationSetting.Channel.choices)
    frequency = models.CharField(max_length=8, choices=NotificationSetting.Frequency.choices)
    period = models.CharField(max_length=10)
    language = models.CharField(max_length=8)
    from_index = models.BigIntegerField()
    through_index = models.BigIntegerField()
    accesses = models.PositiveIntegerField()
    subject = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("access digest")
        verbose_name_plural = _("access digests")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["resident", "frequency", "period"], name="portal_access_digest_once"),
            models.UniqueConstraint(fields=["resident", "from_index"], name="portal_access_digest_entries_once"),
        ]

    def __str__(self) -> str:
        return f"access digest #{self.pk} ({self.period}, entries {self.from_index + 1}-{self.through_index})"


def totp_key_seal(key: bytes) -> bytes:
    """Return the at-rest form of a TOTP KEY: sealed with the national-ID key, bound to its use."""
    return resident_data_seal(key, label=TOTP_KEY_LABEL)


def totp_key_sealed_random() -> bytes:
    """Return a fresh random 20-byte TOTP key, sealed."""
    return totp_key_seal(os.urandom(20))


def backup_code_hash(code: str) -> str:
    """Return the keyed hash a backup CODE is stored and looked up by, ignoring case and spaces."""
    return secret_keyed_hash("".join(code.split()).lower(), context=BACKUP_CODE_HASH_CONTEXT)


def _device_user():
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        verbose_name=_("user"),
        help_text=_("The user that this device belongs to."),
    )


def _device_name():
    return models.CharField(_("name"), max_length=64, help_text=_("The human-readable name of this device."))


def _device_confirmed():
    return models.BooleanField(_("confirmed"), default=True, help_text=_("Is this device ready for use?"))


class TOTPDevice(TimestampMixin, ThrottlingMixin, Device):
    """An authenticator app (RFC 6238 TOTP) whose key is stored only sealed (AES-256-GCM).

    The key is unsealed in memory to check a code or, once, to show the QR code
    at enrolment. Its fields and checks are those of django-otp's TOTPDevice.
    """

    # django-otp's fields again, with translatable labels and help.
    user = _device_user()
    name = _device_name()
    confirmed = _device_confirmed()
    key_sealed = models.BinaryField(_("key sealed"), default=totp_key_sealed_random)
    step = models.PositiveSmallIntegerField(_("step"), default=30)
    t0 = models.BigIntegerField(_("t0"), default=0)
    digits = models.PositiveSmallIntegerField(_("digits"), choices=[(6, 6), (8, 8)], default=6)
    tolerance = models.PositiveSmallIntegerField(_("tolerance"), default=1)
    drift = models.SmallIntegerField(_("drift"), default=0)
    last_t = models.BigIntegerField(_("last t"), default=-1)

    class Meta(Device.Meta):
        verbose_name = _("TOTP device")
        verbose_name_plural = _("TOTP devices")

    @property
    def bin_key(self) -> bytes:
        """Return the unsealed key."""
        return resident_data_open(self.key_sealed, label=TOTP_KEY_LABEL)

    def get_throttle_factor(self):
        return getattr(settings, "OTP_TOTP_THROTTLE_FACTOR", 1)

    def verify_token(self, token) -> bool:
        allowed, _details = self.verify_is_allowed()
        if not allowed:
            return False
        try:
            token = int(token)
        except (TypeError, ValueError):
            verified = False
        else:
            totp = TOTP(self.bin_key, self.step, self.t0, self.digits, self.drift)
            totp.time = time.time()
            verified = totp.verify(token, self.tolerance, self.last_t + 1)
        if verified:
            self.last_t = totp.t()
            if getattr(settings, "OTP_TOTP_SYNC", True):
                self.drift = totp.drift
            self.throttle_reset(commit=False)
            self.set_last_used_timestamp(commit=False)
            self.save()
        else:
            self.throttle_increment(commit=True)
        return verified

    @property
    def config_url(self) -> str:
        """Return the otpauth:// URL an authenticator app scans at enrolment."""
        label = str(self.user.get_username())
        params = urlencode(
            {"secret": b32encode(self.bin_key), "algorithm": "SHA1", "digits": self.digits, "period": self.step}
        )
        issuer = getattr(settings, "OTP_TOTP_ISSUER", "")
        if issuer:
            issuer = issuer.replace(":", "")
            label = f"{issuer}:{label}"
            params += f"&issuer={quote(issuer)}"
        return f"otpauth://totp/{quote(label)}?{params}"


class BackupCodeDevice(TimestampMixin, ThrottlingMixin, Device):
    """A user's one-use backup codes, stored only as keyed hashes."""

    # django-otp's fields again, with translatable labels and help.
    user = _device_user()
    name = _device_name()
    confirmed = _device_confirmed()

    class Meta(Device.Meta):
        verbose_name = _("backup code device")
        verbose_name_plural = _("backup code devices")

    def get_throttle_factor(self):
        return getattr(settings, "OTP_STATIC_THROTTLE_FACTOR", 1)

    def verify_token(self, token) -> bool:
        allowed, _details = self.verify_is_allowed()
        if not allowed:
            return False
        used = self.codes.filter(code_hash=backup_code_hash(str(token))).delete()[0]
        if used:
            self.throttle_reset(commit=False)
            self.set_last_used_timestamp(commit=False)
            self.save()
        else:
            self.throttle_increment()
        return bool(used)


class BackupCode(models.Model):
    """One unused backup code, as its keyed hash (portal.models.backup_code_hash)."""

    device = models.ForeignKey(
        BackupCodeDevice, on_delete=models.CASCADE, related_name="codes", verbose_name=_("device")
    )
    code_hash = models.CharField(_("code hash"), max_length=64, db_index=True)

    class Meta:
        verbose_name = _("backup code")
        verbose_name_plural = _("backup codes")

    def __str__(self) -> str:
        return _("backup code #%(id)s") % {"id": self.pk}


def adulthood_date(birth_date):
    """Return the day a resident born on BIRTH_DATE turns 18 (1 March for a 29 February birthday)."""
    try:
        return birth_date.replace(year=birth_date.year + 18)
    except ValueError:
        return birth_date.replace(year=birth_date.year + 18, month=3, day=1)


class ProxyGrant(models.Model):
    """Leave for one resident (the proxy) to act in the portal for another (the dependant).

    A caseworker links a minor child to a parent or guardian from documents; the
    link ends by itself on the child's 18th birthday. An adult grants it in the
    portal with an invitation code that the proxy enters, and either of them may
    end it at any time. An invitation has no proxy until it is taken up. The
    ledger holds no foreign key to this table: entries name a grant as
    ``proxy-grant:<id>`` in their object.
    """

    class Kind(models.TextChoices):
        MINOR = "minor", _("parent or guardian of a minor")
        ADULT = "adult", _("chosen by an adult")

    class Relationship(models.TextChoices):
        # What the proxy is to the dependant.
        PARENT = "parent", _("parent")
        GUARDIAN = "guardian", _("legal guardian")
        CHILD = "child", _("son or daughter")
        SPOUSE = "spouse", _("spouse or partner")
        SIBLING = "sibling", _("brother or sister")
        RELATIVE = "relative", _("other relative")
        OTHER = "other", _("someone else you trust")

    class EndedBy(models.TextChoices):
        DEPENDANT = "dependant", _("the person acted for")
        PROXY = "proxy", _("the person acting")
        CASEWORKER = "caseworker", _("a caseworker")
        ADULTHOOD = "adulthood", _("the child turned 18")

    dependant = models.ForeignKey(
        "cards.Resident", on_delete=models.PROTECT, related_name="proxy_grants_given", verbose_name=_("acted for")
    )
    proxy = models.ForeignKey(
        "cards.Resident",
        on_delete=models.PROTECT,
        related_name="proxy_grants_held",
        null=True,
        blank=True,
        verbose_name=_("acting"),
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    relationship = models.CharField(_("relationship"), max_length=16, choices=Relationship.choices)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    document_reference = models.CharField(_("document reference"), max_length=100, blank=True)
    invitation_code_hash = models.CharField(
        _("invitation code hash"), max_length=64, blank=True, editable=False, db_index=True
    )
    invitation_expires_at = models.DateTimeField(_("invitation expires at"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    accepted_at = models.DateTimeField(_("in force since"), null=True, blank=True, editable=False)
    ends_on = models.DateField(_("ends on"), null=True, blank=True, editable=False)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True, editable=False)
    ended_by = models.CharField(_("ended by"), max_length=16, choices=EndedBy.choices, blank=True, editable=False)

    class Meta:
        verbose_name = _("family proxy")
        verbose_name_plural = _("family proxies")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(proxy__isnull=True) | ~models.Q(proxy=models.F("dependant")),
                name="portal_proxygrant_not_oneself",
            ),
            models.UniqueConstraint(
                fields=["proxy", "dependant"],
                condition=models.Q(ended_at__isnull=True),
                name="portal_proxygrant_one_open_per_pair",
            ),
        ]

    def __str__(self) -> str:
        return _("proxy grant #%(id)s (%(kind)s)") % {"id": self.pk, "kind": self.get_kind_display()}

    @property
    def ledger_object(self) -> str:
        return f"proxy-grant:{self.pk}"

    def in_force(self, today) -> bool:
        """Return whether the proxy may act for the dependant on TODAY."""
        if self.ended_at is not None or self.accepted_at is None or self.proxy_id is None:
            return False
        return self.ends_on is None or today < self.ends_on
