"""Tell a resident, by e-mail, that the details of a sealed access to their data are now disclosed."""

from django.core.mail import send_mail
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from ledger.api import Actor, access_context, record

# Residents state no language: the message goes in both of the portal's languages, Chinese first.
_LANGUAGES = ("zh-hans", "en")


def sealed_access_notify(sender, *, subject_reference: str, unseal_on, **kwargs) -> bool:
    """E-mail the resident named by SUBJECT_REFERENCE ("resident:<id>") that a sealed access is disclosed."""
    from cards.models import Resident

    kind, _sep, number = subject_reference.partition(":")
    if kind != "resident" or not number.isdigit():
        return False
    with access_context(
        actor=Actor(type="system", id="cards.sealed"), role="system", channel="task", purpose="sealed-investigation"
    ):
        resident = Resident.objects.filter(pk=int(number)).first()
        if resident is None or not resident.email:
            return False
        subjects, bodies = [], []
        for language in _LANGUAGES:
            with translation.override(language):
                subjects.append(_("OneCard: the details of a sealed access to your data are disclosed"))
                bodies.append(
                    _(
                        "An access to your data was sealed until %(date)s by an authority that the law allows to "
                        "do so. Its details are now disclosed: sign in to OneCard and open Who accessed my data."
                    )
                    % {"date": unseal_on.isoformat()}
                )
        with transaction.atomic():
            record(action="ledger.sealed.notify", subject=resident, object=f"disclosed {unseal_on.isoformat()}")
    send_mail(" / ".join(subjects), "\n\n".join(bodies), None, [resident.email])
    return True
