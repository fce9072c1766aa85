"""Resident pages: dashboard, card, pharmacy QR, consents, services, and who accessed the resident's data."""

import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cards.actions import (
    card_credential_mdoc_issue,
    card_credential_sd_jwt_issue,
    card_printable_pdf,
    card_printable_png,
    card_qr_png,
    card_qr_svg,
    card_report_lost,
)
from cards.errors import CardTransitionRefused, HolderKeyInvalid, PhotoInvalid
from cards.models import Card
from cards.selectors import card_get_for_resident, resident_photo_jpeg, resident_photo_list
from cards.tools.onecard_card_verify import DYNAMIC_LIFETIME_SECONDS
from ledger.api import log_mirrors, proof_bundle
from portal import actions, charts, selectors
from portal.errors import ActivationRefused, ProxyRefused
from portal.models import AccessReport, NotificationSetting
from portal.notifications import NotificationRefused, notification_setting_update
from portal.sms import sms_enabled
from portal.web.access import resident_required, step_up_required
from portal.web.forms import (
    AccessFilterForm,
    AccessReportForm,
    AccessReportReplyForm,
    CardActivationForm,
    ConsentGrantForm,
    NotificationSettingForm,
    PhotoSubmitForm,
    ReportLostForm,
)
from services.core import catalogue
from services.core.actions import consent_revoke
from services.core.selectors import consent_list_for_resident, consent_receipt
from services.health.coverage import coverage_on
from services.statistics.selectors import privacy_loss_for_resident

# Where each catalogue section lives in the portal; a catalogue service with a
# portal section must have its page named here (a test checks every one does).
SECTION_PAGES = {
    "cards": "portal:card",
    "pharmacy": "portal:pharmacy",
    "access-history": "portal:access-history",
    "social-security": "portal:social-security",
    "health": "portal:health",
    "grants": "portal:grants",
}


def _tiles() -> list[dict]:
    tiles = []
    for service in catalogue.services_all():
        if not service.portal_section:
            continue
        url = reverse(SECTION_PAGES[service.portal_section])
        tiles.append({"name": selectors.service_name(service), "url": url, "section": service.portal_section})
    return tiles


@require_GET
@resident_required
def dashboard(request):
    """Show the card and its status, a tile per service, and notifications."""
    card = card_get_for_resident(resident=request.resident)
    context = {
        "card": card,
        "tiles": _tiles(),
        "notifications": selectors.notifications_for_resident(resident=request.resident, card=card),
    }
    return render(request, "portal/me/dashboard.html", context)


@require_GET
@resident_required
def card(request):
    """Show the card with its static QR code, downloads, and the way to report it lost."""
    held = card_get_for_resident(resident=request.resident)
    svg = card_qr_svg(card=held) if held is not None and held.status == Card.Status.ACTIVE else None
    return render(request, "portal/me/card.html", {"card": held, "qr_svg": svg})


def _active_card(request) -> Card:
    held = card_get_for_resident(resident=request.resident)
    if held is None or held.status != Card.Status.ACTIVE:
        raise Http404("no active card")
    return held


@require_GET
@resident_required
def card_qr_download(request):
    """Download the static QR code as PNG."""
    response = HttpResponse(card_qr_png(card=_active_card(request)), content_type="image/png")
    response["Content-Disposition"] = 'attachment; filename="onecard-qr.png"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@resident_required
def card_printable_download(request):
    """Download the printable card image, or say it is still being drawn."""
    image = card_printable_png(card=_active_card(request))
    if image is None:
        response = render(request, "portal/me/printable_pending.html", status=202)
        response["Retry-After"] = "5"
        return response
    response = HttpResponse(image, content_type="image/png")
    response["Content-Disposition"] = 'attachment; filename="onecard-card.png"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@resident_required
def card_printable_pdf_download(request):
    """Download the printable card as a PDF at card size, or say it is still being drawn."""
    document = card_printable_pdf(card=_active_card(request))
    if document is None:
        response = render(request, "portal/me/printable_pending.html", status=202)
        response["Retry-After"] = "5"
        return response
    response = HttpResponse(document, content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="onecard-card.pdf"'
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
@resident_required
@step_up_required
def card_report_lost_view(request):
    """Block the card at once when the resident reports it lost."""
    held = card_get_for_resident(resident=request.resident)
    if held is None or held.status not in Card.IN_FORCE:
        raise Http404("no card in force")
    form = ReportLostForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            card_report_lost(card=held)
        except CardTransitionRefused:
            form.add_error(None, _("This card can no longer be reported lost."))
        else:
            messages.success(request, _("Your card is blocked. A caseworker will issue a new one."))
            return redirect("portal:card")
    return render(request, "portal/me/report_lost.html", {"card": held, "form": form})


def _card_credential_download(request, issue, *, content_type: str, filename: str):
    card = _active_card(request)
    holder_jwk = None
    if request.method == "POST":
        try:
            holder_jwk = json.loads(request.POST.get("holder_jwk", ""))
        except ValueError:
            return HttpResponse(_("holder_jwk must be a JSON Web Key."), status=400, content_type="text/plain")
    insured = coverage_on(resident=card.resident, on=timezone.localdate()).covered
    try:
        credential = issue(card=card, insured=insured, holder_jwk=holder_jwk)
    except HolderKeyInvalid as error:
        return HttpResponse(str(error), status=400, content_type="text/plain")
    response = HttpResponse(credential, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
@resident_required(proxy=False)
def card_credential_sd_jwt_download(request):
    """Download the card as an SD-JWT VC with every disclosure; a wallet POSTs its public key as holder_jwk."""
    return _card_credential_download(
        request, card_credential_sd_jwt_issue, content_type="application/dc+sd-jwt", filename="onecard.sd-jwt"
    )


@require_http_methods(["GET", "POST"])
@resident_required(proxy=False)
def card_credential_mdoc_download(request):
    """Download the card as an issuer-signed mdoc (CBOR); a wallet POSTs its public key as holder_jwk."""
    return _card_credential_download(
        request, card_credential_mdoc_issue, content_type="application/cbor", filename="onecard.mdoc"
    )


@require_http_methods(["GET", "POST"])
@resident_required
@step_up_required
def card_photo_view(request):
    """Show the state of the resident's card photo and let them submit a new one for approval."""
    form = PhotoSubmitForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.resident_card_photo_submit(
                resident=request.resident, data=form.cleaned_data["image"].read(), proxy_grant=request.proxy_grant
            )
        except PhotoInvalid as error:
            form.add_error("image", str(error))
        except ProxyRefused:
            form.add_error(
                None,
                _("%(name)s must send the photo for their card themselves: you cannot send it while acting for them.")
                % {"name": request.resident.full_name},
            )
        else:
            messages.success(request, _("Thank you. A caseworker will check your photo before it is printed."))
            return redirect("portal:card-photo")
    photos = resident_photo_list(resident=request.resident, limit=5)
    approved = next((photo for photo in photos if photo.status == "approved"), None)
    pending = next((photo for photo in photos if photo.status == "pending"), None)
    context = {"form": form, "approved": approved, "pending": pending, "photos": photos}
    return render(request, "portal/me/card_photo.html", context)


@require_GET
@resident_required
def card_photo_download(request):
    """Show the resident their own approved photo (recorded like any other view of it)."""
    jpeg = resident_photo_jpeg(resident=request.resident, shown_to="portal")
    if jpeg is None:
        raise Http404("no approved photo")
    response = HttpResponse(jpeg, content_type="image/jpeg")
    response["Cache-Control"] = "no-store, private"
    return response


@require_http_methods(["GET", "POST"])
@resident_required
@step_up_required
def card_activate_view(request):
    """Activate the pending card (a replacement) with the code sent for it; the old card stays replaced."""
    held = card_get_for_resident(resident=request.resident)
    if held is None or held.status != Card.Status.PENDING:
        raise Http404("no card waiting for activation")
    form = CardActivationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.resident_card_activate(resident=request.resident, code=form.cleaned_data["code"])
        except ActivationRefused:
            form.add_error("code", _("The activation code is wrong, expired, or was tried too often."))
        else:
            messages.success(request, _("Your new card is active."))
            return redirect("portal:card")
    return render(request, "portal/me/card_activate.html", {"card": held, "form": form})


@require_GET
@resident_required
def pharmacy(request):
    """Show the 60-second QR code for the pharmacy counter."""
    held = card_get_for_resident(resident=request.resident)
    active = held is not None and held.status == Card.Status.ACTIVE
    return render(
        request, "portal/me/pharmacy.html", {"card": held, "active": active, "lifetime": DYNAMIC_LIFETIME_SECONDS}
    )


@never_cache
@require_GET
@resident_required
def pharmacy_qr(request):
    """Return a fresh one-use QR code as SVG; the pharmacy page reloads it every 60 seconds."""
    response = HttpResponse(card_qr_svg(card=_active_card(request), dynamic=True), content_type="image/svg+xml")
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@resident_required
def consents(request):
    """List the resident's consents with grant, revoke and receipt links."""
    rows = list(consent_list_for_resident(resident=request.resident))
    scopes = catalogue.scopes_all()
    listed = [
        {
            "consent": consent,
            "agency": selectors._localized(consent.agency.name_en, consent.agency.name_zh_hans),
            "scope": _(scopes[consent.scope].description) if consent.scope in scopes else consent.scope,
            "purpose": selectors.purpose_name(consent.purpose),
            "active": consent.is_active(),
        }
        for consent in rows
    ]
    return render(request, "portal/me/consents.html", {"consents": listed})


@require_http_methods(["GET", "POST"])
@resident_required
@step_up_required
def consent_grant_view(request):
    """Give an agency a consent for one scope and purpose."""
    form = ConsentGrantForm(request.POST or None, agencies=selectors.agencies_for_consent())
    if request.method == "POST" and form.is_valid():
        agency = selectors.agency_get_active(code=form.cleaned_data["agency"])
        if agency is None:
            form.add_error("agency", _("This agency is not available."))
        else:
            try:
                actions.resident_consent_grant(
                    resident=request.resident,
                    agency=agency,
                    scope=form.cleaned_data["scope"],
                    purpose=form.cleaned_data["purpose"],
                    proxy_grant=request.proxy_grant,
                )
            except ProxyRefused:
                form.add_error(
                    None,
                    _(
                        "%(name)s must give a consent that opens their health data themselves: "
                        "you cannot give it while acting for them."
                    )
                    % {"name": request.resident.full_name},
                )
            except ValidationError as error:
                form.add_error(None, _("This purpose cannot be used with that permission."))
                del error
            else:
                messages.success(request, _("Consent given."))
                return redirect("portal:consents")
    return render(request, "portal/me/consent_grant.html", {"form": form})


def _own_consent(request, receipt_id):
    consent = selectors.consent_get_for_resident(resident=request.resident, receipt_id=receipt_id)
    if consent is None:
        raise Http404("no such consent")
    return consent


@require_http_methods(["GET", "POST"])
@resident_required
@step_up_required
def consent_revoke_view(request, receipt_id):
    """Withdraw a consent from now on."""
    consent = _own_consent(request, receipt_id)
    if request.method == "POST":
        consent_revoke(consent=consent)
        messages.success(request, _("Consent withdrawn."))
        return redirect("portal:consents")
    return render(request, "portal/me/consent_revoke.html", {"consent": consent})


@require_GET
@resident_required
def consent_receipt_download(request, receipt_id):
    """Download the consent receipt as JSON."""
    receipt = consent_receipt(consent=_own_consent(request, receipt_id))
    response = HttpResponse(json.dumps(receipt, ensure_ascii=False, indent=2), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="consent-{receipt["receipt_id"]}.json"'
    return response


def _service_choices():
    return [(service.code, selectors.service_name(service)) for service in catalogue.services_all()] + [
        ("portal", selectors.service_label("portal"))
    ]


def _summary_chart(summary: selectors.AccessSummary) -> str:
    """Return the summary's chart: the organisations with the most accesses, the rest counted together."""
    shown = [(item.who, item.count) for item in summary.organisations[:CHART_ORGANISATIONS]]
    rest = sum(item.count for item in summary.organisations[CHART_ORGANISATIONS:])
    if rest:
        shown.append((_("Others"), rest))
    title = _("Accesses to your data in the last %(days)s days, by organisation") % {"days": summary.days}
    return charts.summary_svg(title=title, rows=shown)


CHART_ORGANISATIONS = 6


@require_GET
@resident_required
def access_history(request):
    """Show who accessed the resident's data: a 30-day summary, then each access in plain words, with proofs."""
    form = AccessFilterForm(request.GET or None, service_choices=_service_choices())
    filters = form.cleaned_data if form.is_valid() else {}
    before = request.GET.get("before", "")
    page = selectors.access_history_for_resident(
        resident=request.resident,
        actor=filters.get("actor") or "others",
        service=filters.get("service") or "",
        purpose=filters.get("purpose") or "",
        outcome=filters.get("outcome") or "",
        since=filters.get("since"),
        until=filters.get("until"),
        before=selectors.entry_number(before),
        summary=not request.GET,
    )
    reports = selectors.access_reports_for_resident(resident=request.resident)
    by_index: dict[int, list] = {}
    for report in reports:
        if report.entry_index is not None:
            by_index.setdefault(report.entry_index, []).append(report)

    def entry(row):
        return {"row": row, "service": selectors.service_label(row.service), "reports": by_index.get(row.index, [])}

    next_url = None
    if page.next_before is not None:
        query = request.GET.copy()
        query["before"] = page.next_before
        next_url = f"?{query.urlencode()}"
    mirrors = log_mirrors()
    chosen = request.GET.get("mirror", "")
    context = {
        "form": form,
        "rows": [entry(row) for row in page.rows],
        "folded": [entry(row) for row in page.folded],
        "folded_more": page.folded_more,
        "summary": page.summary,
        "summary_chart": _summary_chart(page.summary) if page.summary and page.summary.organisations else "",
        "reports": reports,
        "reply_form": AccessReportReplyForm(),
        "next_url": next_url,
        "first_url": None,
        # Verify reads the published log from here or from a mirror the resident picks (?mirror=URL).
        "log_url": reverse("log:checkpoint").removesuffix("checkpoint"),
        "log_mirrors": mirrors,
        "log_mirror": chosen if chosen in mirrors else "",
    }
    context["statistics"] = privacy_loss_for_resident(resident=request.resident)
    if before:
        query = request.GET.copy()
        query.pop("before", None)
        context["first_url"] = f"?{query.urlencode()}"
    return render(request, "portal/me/access_history.html", context)


@require_POST
@resident_required
def access_report_reply(request, report_id):
    """Reply once to the caseworker's answer on one of the resident's reports; the reply goes back to them."""
    if selectors.access_report_get_for_resident(resident=request.resident, report_id=report_id) is None:
        raise Http404("no such report")
    form = AccessReportReplyForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please write your reply (at most 2000 characters)."))
    else:
        try:
            actions.access_report_reply(resident=request.resident, report_id=report_id, text=form.cleaned_data["text"])
        except AccessReport.DoesNotExist:
            raise Http404("no such report") from None
        except actions.ReplyRefused:
            messages.error(request, _("You have already replied to this answer, or there is no answer yet."))
        else:
            messages.success(request, _("Thank you. Your reply is with a caseworker."))
    return redirect(reverse("portal:access-history") + f"#report-{report_id}")


@require_http_methods(["GET", "POST"])
@resident_required
def notification_settings(request):
    """Let the resident choose to be told, by e-mail or SMS, daily or weekly, when organisations accessed their data."""
    setting = selectors.notification_setting_for_resident(resident=request.resident)
    initial = {"frequency": setting.frequency, "channel": setting.channel, "language": setting.language}
    form = NotificationSettingForm(request.POST or None, initial=initial)
    if (
        request.method == "GET"
        and setting.channel == NotificationSetting.Channel.SMS
        and setting.frequency != NotificationSetting.Frequency.NEVER
        and not sms_enabled()
    ):
        messages.warning(request, _("Text messages are no longer sent. Choose e-mail to keep being told."))
    if request.method == "POST" and form.is_valid():
        try:
            notification_setting_update(resident=request.resident, **form.cleaned_data)
        except NotificationRefused:
            form.add_error(
                "channel",
                _("We have no address for this in the register. Choose the other way, or ask a service centre."),
            )
        else:
            messages.success(request, _("Your notification settings are saved."))
            return redirect("portal:notification-settings")
    return render(request, "portal/me/notification_settings.html", {"form": form, "setting": setting})


@require_GET
@resident_required
def access_proof(request, reference):
    """Download the proof bundle of one sealed entry, for onecard_verify.py."""
    row = selectors.access_entry_get_for_resident(resident=request.resident, reference=reference)
    if row is None:
        raise Http404("no such entry")
    if not row.sealed:
        return render(request, "portal/me/proof_pending.html", {"row": row}, status=409)
    bundle = proof_bundle(index=row.index)
    response = HttpResponse(json.dumps(bundle), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="onecard-proof-{row.index}.json"'
    return response


@require_http_methods(["GET", "POST"])
@resident_required
def access_report(request, reference):
    """Report an access the resident does not recognise; a caseworker looks into it."""
    row = selectors.access_entry_get_for_resident(resident=request.resident, reference=reference)
    if row is None:
        raise Http404("no such entry")
    form = AccessReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        report = actions.access_report_open(
            resident=request.resident,
            entry_index=row.index,
            entry_summary=row.summary(),
            text=form.cleaned_data["text"],
        )
        messages.success(request, _("Thank you. Your report #%(id)s is with a caseworker.") % {"id": report.pk})
        return redirect("portal:access-history")
    return render(request, "portal/me/access_report.html", {"row": row, "form": form})
