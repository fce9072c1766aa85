import pytest

from ledger.api import subject_pseudonym

pytestmark = pytest.mark.django_db

SELF = ("resident", "resident", "web", "self-service", "ok")


def test_dashboard_shows_card_tiles_and_records_one_card_read(client_a, resident_a, ledger_rows):
    _user, resident, card, _device = resident_a
    rows = ledger_rows

    response = client_a.get("/me/")

    assert response.status_code == 200
    page = response.content.decode()
    assert card.number_display in page
    for name in ("Social security", "Health", "Grants", "Drug purchase", "Access ledger"):
        assert name in page
    assert rows() == [("cards.cards.read", *SELF)]


def test_dashboard_tiles_link_to_their_section_pages(client_a):
    page = client_a.get("/me/").content.decode()

    tiles = page.split('<ul class="tiles">')[1].split("</ul>")[0]
    for section in ("card", "pharmacy", "access", "services/social-security", "services/health", "services/grants"):
        assert f'href="/me/{section}/"' in tiles


def test_dashboard_rows_name_the_resident_pseudonym_as_actor(client_a, resident_a):
    from ledger.models import PendingEntry

    client_a.get("/me/")

    entry = PendingEntry.objects.order_by("-id").first()
    assert entry.actor_id == subject_pseudonym(resident_a[1])
    assert entry.subject == subject_pseudonym(resident_a[1])


def test_card_page_shows_static_qr_and_records_read_and_credential(client_a, ledger_rows):
    response = client_a.get("/me/card/")

    assert response.status_code == 200
    assert "<svg" in response.content.decode()
    assert ledger_rows() == [("cards.cards.read", *SELF), ("cards.credentials.static.issue", *SELF)]


def test_card_qr_png_downloads(client_a, ledger_rows):
    response = client_a.get("/me/card/qr.png")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response.content.startswith(b"\x89PNG")
    assert ledger_rows() == [("cards.cards.read", *SELF), ("cards.credentials.static.issue", *SELF)]


def test_printable_card_downloads(client_a, resident_a, ledger_rows):
    from cards.tasks import card_printable_render

    card_printable_render(resident_a[2].pk)  # what the worker does; with a Redis broker no task runs inline
    rendered = len(ledger_rows())
    response = client_a.get("/me/card/printable.png")

    assert response.status_code == 200
    assert response.content.startswith(b"\x89PNG")
    actions = [row[0] for row in ledger_rows()[rendered:]]
    assert actions[:2] == ["cards.cards.read", "cards.cards.print"]


def test_pharmacy_page_records_only_the_card_read(client_a, ledger_rows):
    response = client_a.get("/me/pharmacy/")

    assert response.status_code == 200
    assert "js/pharmacy.js" in response.content.decode()
    assert ledger_rows() == [("cards.cards.read", *SELF)]


def test_pharmacy_qr_is_a_fresh_dynamic_credential_each_time(client_a, ledger_rows):
    first = client_a.get("/me/pharmacy/qr.svg")
    second = client_a.get("/me/pharmacy/qr.svg")

    assert first["Content-Type"] == "image/svg+xml"
    assert first["Cache-Control"].startswith("max-age=0") or "no-store" in first["Cache-Control"]
    assert first.content != second.content
    assert ledger_rows() == [("cards.cards.read", *SELF), ("cards.credentials.dynamic.issue", *SELF)] * 2


def test_report_lost_needs_a_fresh_one_time_password(client_a, ledger_rows):
    response = client_a.get("/me/card/report-lost/")

    assert response.status_code == 302
    assert response["Location"].startswith("/account/step-up/?next=%2Fme%2Fcard%2Freport-lost%2F")
    assert ledger_rows() == []


def test_report_lost_blocks_the_card(client, resident_a, ledger_rows):
    from tests.factories.portal import sign_in

    user, _resident, card, device = resident_a
    sign_in(client, user, device, step_up=True)

    response = client.post("/me/card/report-lost/", {"confirm": "on"})

    assert response.status_code == 302
    card.refresh_from_db()
    assert card.status == "lost"
    assert ledger_rows() == [("cards.cards.read", *SELF), ("cards.cards.lose", *SELF)]


def test_report_lost_without_confirmation_changes_nothing(client, resident_a, ledger_rows):
    from tests.factories.portal import sign_in

    user, _resident, card, device = resident_a
    sign_in(client, user, device, step_up=True)

    response = client.post("/me/card/report-lost/", {})

    assert response.status_code == 200
    card.refresh_from_db()
    assert card.status == "active"
    assert ledger_rows() == [("cards.cards.read", *SELF)]


def test_every_catalogue_section_has_a_portal_page():
    from portal.web.pages import SECTION_PAGES
    from services.core.catalogue import services_all

    sections = {service.portal_section for service in services_all() if service.portal_section}

    assert sections <= set(SECTION_PAGES)


def test_unknown_section_is_404(client_a):
    assert client_a.get("/me/services/nothing/").status_code == 404


def test_pages_need_sign_in(client, db):
    response = client.get("/me/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_pages_need_a_verified_one_time_password(client, resident_a):
    user, _resident, _card, _device = resident_a
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")

    response = client.get("/me/")

    assert response.status_code == 302
    assert response["Location"].startswith("/account/otp/verify/")


def test_staff_without_resident_record_is_refused(client, db):
    from tests.factories import UserFactory

    staff = UserFactory(is_staff=True)
    staff.save()
    client.force_login(staff, backend="django.contrib.auth.backends.ModelBackend")

    assert client.get("/me/").status_code == 403


def test_pages_send_a_csp_without_inline_scripts(client_a):
    response = client_a.get("/me/")

    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "<script>" not in response.content.decode()


def test_dashboard_speaks_chinese(client_a):
    client_a.post("/i18n/setlang/", {"language": "zh-hans", "next": "/me/"})

    page = client_a.get("/me/").content.decode()

    assert 'lang="zh-hans"' in page
    assert "我的一卡通" in page
    assert "社会保障" in page
    assert "My OneCard" not in page


def test_printable_card_downloads_as_pdf(client_a, resident_a, ledger_rows):
    from cards.tasks import card_printable_render

    card_printable_render(resident_a[2].pk)
    rendered = len(ledger_rows())
    response = client_a.get("/me/card/printable.pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    actions = [row[0] for row in ledger_rows()[rendered:]]
    assert actions[:2] == ["cards.cards.read", "cards.cards.print"]


def test_the_wallet_page_records_a_card_read_and_the_offer_once_asked(client_a, ledger_rows):
    shown = client_a.get("/me/card/wallet/")
    assert shown.status_code == 200 and shown.context["offer_uri"] is None
    assert ledger_rows() == [("cards.cards.read", *SELF)]

    offered = client_a.post("/me/card/wallet/")

    assert offered.context["offer_uri"].startswith("openid-credential-offer://")
    assert "no-store" in offered["Cache-Control"]
    assert ledger_rows() == [
        ("cards.cards.read", *SELF),
        ("cards.cards.read", *SELF),
        ("cards.credentials.offer.create", *SELF),
    ]
