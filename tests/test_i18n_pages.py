"""Every portal page and every staff admin page, rendered in Chinese, shows no English words (and the reverse).

The catalog test (tests/test_i18n_catalog.py) finds marked strings without a
translation; this one finds strings that were never marked. The pages are
the probe's (tests/security/test_probe_admin_portal.py): every URL of every
registered model admin and of the admin site, and every portal page, built
from the registry and the URL resolver, so a new page is checked without
editing this test. The admin is opened as a superuser with a verified device
and a stated purpose, the portal as a signed-in resident.

What a page shows from the database (names, agency names, drug names,
usernames, stored codes) is data, not interface text, and is left out: every
text value of the world's rows is. So are codes the interface shows on
purpose (purpose, action and scope codes), Latin-letter words a Chinese page
keeps (`tests.support.visible_text.ALLOWED_WORDS`, each with its reason), and
text inside an element whose `lang` names another language.
"""

import collections
import re

import pytest
from django.apps import apps
from django.db import models

from cards.models import Resident
from ledger.vocabulary import actions_all, purposes_all
from tests.factories.portal import sign_in
from tests.portal.staff import admin_login, fast_password_hashing, purpose_state, staff_create  # noqa: F401 (fixture)
from tests.security.test_probe_admin_portal import admin_pages, portal_pages, shown_text, world
from tests.support.visible_text import chinese_characters, data_pattern, english_words, visible_text

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fast_password_hashing")]


def stored_text() -> re.Pattern:
    """Return every text value stored in the world's rows and every code the interface shows, longest first."""
    values: set[str] = set()
    for model in apps.get_models():
        fields = [f.attname for f in model._meta.concrete_fields if isinstance(f, models.CharField | models.TextField)]
        if not fields:
            continue
        for row in model._default_manager.values_list(*fields):
            values.update(str(value) for value in row if value and not getattr(model._meta, "abstract", False))
    values.update(action.code for action in actions_all())
    values.update(purpose.code for purpose in purposes_all())
    return data_pattern(value for value in values if len(value) > 1)


def _findings(client, pages, language: str, data: re.Pattern) -> dict[str, list[str]]:
    """Open PAGES in LANGUAGE; return {word or characters: [page labels]} of text in the other language."""
    found = collections.defaultdict(list)
    client.cookies["django_language"] = language
    for label, method, path, payload in pages:
        response = getattr(client, method)(path, payload or {}, follow=True)
        if "html" not in response.get("Content-Type", ""):
            continue
        html = shown_text(response)
        for piece in visible_text(html, language=language):
            if language == "zh-hans":
                if english_words(piece, data=data):
                    found[piece[:150]].append(label)
            elif chinese_characters(piece, data=data):
                found[piece[:100]].append(label)
    return found


def test_explore_portal(client):
    seeded = world()
    data = stored_text()
    signed_out = client.__class__()
    sign_in(client, seeded["user"], seeded["device"], step_up=True)
    pages = list(portal_pages(seeded))
    found = {}
    for language in ("zh-hans", "en"):
        found.update(_findings(client, [(l, m, p, None) for l, m, p, s in pages if s], language, data))
        found.update(_findings(signed_out, [(l, m, p, None) for l, m, p, s in pages if not s], language, data))
    for key, labels in sorted(found.items()):
        print(key, "|", len(labels), labels[0])
    assert not found


def test_explore(client):
    world()
    residents = list(Resident.objects.all())
    admin_login(client, staff_create("superuser"))
    purpose_state(client, "registration")
    data = stored_text()
    found = _findings(client, list(admin_pages(residents)), "zh-hans", data)
    for key, labels in sorted(found.items()):
        print(key, "|", len(labels), labels[0])
    assert not found
