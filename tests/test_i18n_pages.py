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
import json
import re

import pytest
from django.apps import apps
from django.db import models

from cards.models import Resident
from ledger.vocabulary import actions_all, purposes_all
from services.core.catalogue import scopes_all
from tests.factories.portal import sign_in
from tests.portal.staff import admin_login, fast_password_hashing, purpose_state, staff_create  # noqa: F401 (fixture)
from tests.security.test_probe_admin_portal import admin_pages, portal_pages, shown_text, world
from tests.support.visible_text import chinese_characters, data_pattern, english_words, visible_text

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fast_password_hashing")]


# Pages that still show English in Chinese, each with why. The test fails for any other page with English, and
# for a page listed here that no longer shows any: take it off the list then.
NOT_YET_TRANSLATED: dict[str, str] = {}
NOT_YET_TRANSLATED_EN: dict[str, str] = {}


def _unlisted(found: dict[str, list[str]], language: str, site: str) -> tuple[dict, set[str]]:
    """Split FOUND into findings on pages not listed, and the listed prefixes of SITE that found nothing (fixed)."""
    listed = NOT_YET_TRANSLATED if language == "zh-hans" else NOT_YET_TRANSLATED_EN
    listed = {prefix: why for prefix, why in listed.items() if prefix.startswith(site)}
    unlisted = {}
    for piece, labels in found.items():
        rest = [label for label in labels if not any(label.startswith(prefix) for prefix in listed)]
        if rest:
            unlisted[piece] = rest
    seen = {label for labels in found.values() for label in labels}
    fixed = {prefix for prefix in listed if not any(label.startswith(prefix) for label in seen)}
    return unlisted, fixed


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list | tuple):
        return [text for item in value for text in _strings(item)]
    return []


def stored_text() -> re.Pattern:
    """Return a pattern of every text value stored in the world's rows (JSON included) and every declared code."""
    values: set[str] = set()
    for model in apps.get_models():
        kinds = (models.CharField, models.TextField, models.JSONField, models.BinaryField)
        fields = [field for field in model._meta.concrete_fields if isinstance(field, kinds)]
        if not fields:
            continue
        for row in model._default_manager.values_list(*(field.attname for field in fields)):
            for field, value in zip(fields, row, strict=True):
                if isinstance(field, models.BinaryField) and value is not None:
                    try:
                        value = json.loads(bytes(value))
                    except ValueError:
                        continue
                values.update(_strings(value))
    values.update(action.code for action in actions_all())
    values.update(purpose.code for purpose in purposes_all())
    values.update(scopes_all())
    return data_pattern(value for value in values if len(value) > 1)


def _findings(client, pages, language: str, data: re.Pattern) -> dict[str, list[str]]:
    """Open PAGES in LANGUAGE; return {text piece: [page labels]} for pieces in the other language."""
    found = collections.defaultdict(list)
    client.cookies["django_language"] = language
    for label, method, path, payload in pages:
        response = getattr(client, method)(path, payload or {}, follow=True)
        if "html" not in response.get("Content-Type", ""):
            continue
        for piece in visible_text(shown_text(response), language=language):
            check = english_words if language == "zh-hans" else chinese_characters
            wrong = check(piece, data=data)
            if wrong:
                found[piece[:160]].append(label)
    return found


def _report(found: dict[str, list[str]]) -> str:
    return "\n".join(f"{piece!r} on {len(labels)} pages, e.g. {labels[0]}" for piece, labels in sorted(found.items()))


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_admin_page_speaks_one_language(client, language):
    world()
    residents = list(Resident.objects.all())
    admin_login(client, staff_create("superuser"))
    purpose_state(client, "registration")

    pages = list(admin_pages(residents))
    found = _findings(client, pages, language, stored_text())

    unlisted, fixed = _unlisted(found, language, "admin:")
    assert len(pages) > 100
    assert not unlisted, f"{len(unlisted)} pieces of text in the wrong language:\n" + _report(unlisted)
    assert not fixed, f"these pages are translated now: take them off the list: {sorted(fixed)}"


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_portal_page_speaks_one_language(client, language):
    seeded = world()
    signed_out = client.__class__()
    sign_in(client, seeded["user"], seeded["device"], step_up=True)
    pages = list(portal_pages(seeded))
    data = stored_text()

    found = _findings(client, [(label, m, path, None) for label, m, path, signed in pages if signed], language, data)
    found.update(
        _findings(
            signed_out, [(label, m, path, None) for label, m, path, signed in pages if not signed], language, data
        )
    )

    unlisted, fixed = _unlisted(found, language, "portal:")
    assert len(pages) >= 25
    assert not unlisted, f"{len(unlisted)} pieces of text in the wrong language:\n" + _report(unlisted)
    assert not fixed, f"these pages are translated now: take them off the list: {sorted(fixed)}"


def test_the_check_notices_english_in_a_chinese_page():
    html = '<html lang="zh-hans"><body><p>卡片</p><button title="Close">关闭</button><p>Card requests</p>'
    html += '<select><option lang="en">English</option></select><script>var x = "Hello";</script>'
    html += "<p>OneCard API 二维码 https://example.org/x a@b.cn 110105199003071239</p></body></html>"

    pieces = visible_text(html, language="zh-hans")

    assert [word for piece in pieces for word in english_words(piece)] == ["Close", "Card", "requests"]
