from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models
from django.utils.translation import gettext_lazy as _


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

    class Meta:
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

    resident = models.ForeignKey("cards.Resident", on_delete=models.PROTECT, related_name="access_reports")
    entry_index = models.BigIntegerField(_("ledger entry index"), null=True, blank=True, db_index=True)
    entry_summary = models.CharField(_("entry as shown to the resident"), max_length=500)
    text = models.TextField(_("what the resident says"), max_length=2000)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    caseworker_note = models.TextField(_("caseworker's answer"), blank=True)
    created_at = models.DateTimeField(_("reported at"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("unrecognised access report")
        verbose_name_plural = _("unrecognised access reports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"report #{self.pk} ({self.status})"
