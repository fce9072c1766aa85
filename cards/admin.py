import re

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cards.actions import (
    card_issue,
    card_reissue,
    card_resume,
    card_revoke,
    card_suspend,
    resident_photo_approve,
    resident_photo_reject,
    resident_photo_set,
    resident_register,
    resident_update_contact,
)
from cards.admin_base import ResidentDataAdmin
from cards.errors import CardsError, PhotoInvalid
from cards.models import Card, Resident, ResidentPhoto
from cards.national_id import NationalIdFormField
from cards.photos import PHOTO_MAX_BYTES, photo_clean
from cards.reasons import CardReason
from cards.selectors import card_history, resident_get_by_national_id, resident_photo_open, resident_search
from cards.validation import resident_fields_clean


class ResidentCreationForm(forms.ModelForm):
    national_id = NationalIdFormField(label=_("National ID"), help_text=_("18 characters, GB 11643."))

    class Meta:
        model = Resident
        fields = ["national_id", "full_name", "phone", "email"]

    def clean(self):
        cleaned = super().clean()
        values, errors = resident_fields_clean(
            national_id=cleaned.get("national_id", ""),
            full_name=cleaned.get("full_name", ""),
            phone=cleaned.get("phone", ""),
            email=cleaned.get("email", ""),
        )
        if errors:
            raise ValidationError(errors)
        if resident_get_by_national_id(national_id=values["national_id"]) is not None:
            raise ValidationError({"national_id": "A resident with this national ID is already registered."})
        cleaned.update(values)
        return cleaned


@admin.register(Resident)
class ResidentAdmin(ResidentDataAdmin):
    ledger_prefix = "cards.residents"
    list_display = ["full_name", "national_id_masked", "phone", "birth_date", "province_code"]
    search_fields = ["full_name"]
    search_help_text = _("Exact national ID, or part of a name or phone number.")
    readonly_fields = ["national_id_masked", "birth_date", "sex", "province_code", "created_at", "updated_at"]
    fields = ["full_name", "phone", "email", "user", "national_id_masked", "birth_date", "sex", "province_code"]
    raw_id_fields = ["user"]
    actions = ["issue_card"]

    def has_issue_permission(self, request) -> bool:
        return request.user.has_perm("cards.add_card")

    @admin.action(description=_("Issue a card to the selected residents"), permissions=["issue"])
    def issue_card(self, request, queryset):
        for resident in queryset:
            try:
                card = card_issue(resident=resident, reason=CardReason.FIRST_ISSUE)
            except CardsError as error:
                self.message_user(request, f"{resident}: {error}", messages.ERROR)
            else:
                self.message_user(request, f"{resident}: issued {card}; the activation code goes by email.")

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ResidentCreationForm
            kwargs["fields"] = ["national_id", "full_name", "phone", "email"]
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return ["national_id", "full_name", "phone", "email"] if obj is None else self.fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_search_results(self, request, queryset, search_term):
        return resident_search(term=search_term, queryset=queryset), False

    def save_model(self, request, obj, form, change):
        if change:
            resident_update_contact(resident=obj, full_name=obj.full_name, phone=obj.phone, email=obj.email)
            return
        resident = resident_register(
            national_id=form.cleaned_data["national_id"],
            full_name=form.cleaned_data["full_name"],
            phone=form.cleaned_data.get("phone", ""),
            email=form.cleaned_data.get("email", ""),
        )
        # The admin keeps using OBJ after save_model for its log entry and redirect.
        vars(obj).update(vars(resident))


class CardReasonForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=CardReason.choices)


def _card_transition_action(name: str, verb, description: str):
    """Build an admin action that asks for a reason, then applies VERB to each selected card."""

    def action(modeladmin, request, queryset):
        form = CardReasonForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            context = {
                **modeladmin.admin_site.each_context(request),
                "title": description,
                "queryset": queryset,
                "form": form,
                "action": name,
                "opts": modeladmin.model._meta,
            }
            return TemplateResponse(request, "admin/cards/card/transition.html", context)
        for card in queryset:
            try:
                result = verb(card=card, reason=form.cleaned_data["reason"])
            except CardsError as error:
                modeladmin.message_user(request, f"{card}: {error}", messages.ERROR)
            else:
                modeladmin.message_user(
                    request, gettext("%(card)s: done, now %(status)s.") % {"card": card, "status": result}
                )
        return None

    action.__name__ = name
    return admin.action(description=description, permissions=["transition"])(action)


@admin.register(Card)
class CardAdmin(ResidentDataAdmin):
    ledger_prefix = "cards.cards"
    list_display = ["number_display", "version", "resident", "status", "status_reason", "issued_on", "expires_on"]
    list_filter = ["status"]
    list_select_related = ["resident"]
    search_fields = ["number"]
    readonly_fields = [
        "number_display",
        "version",
        "resident",
        "status",
        "status_reason",
        "issued_on",
        "expires_on",
        "activated_at",
        "replaced_by",
        "history",
    ]
    fields = readonly_fields
    actions = [
        _card_transition_action("suspend_cards", card_suspend, _("Suspend the selected cards")),
        _card_transition_action("resume_cards", card_resume, _("Resume the selected cards")),
        _card_transition_action("revoke_cards", card_revoke, _("Revoke the selected cards")),
        _card_transition_action("reissue_cards", card_reissue, _("Reissue the selected cards")),
    ]

    def has_transition_permission(self, request) -> bool:
        return request.user.has_perm("cards.change_card")

    def has_add_permission(self, request):
        # Cards are issued from the resident list, through card_issue.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # Status changes go through the actions above, each with a reason; the form is read-only.
        return False

    @admin.display(description=_("history (from the ledger)"))
    def history(self, card: Card):
        rows = card_history(card=card)
        if not rows:
            return "-"
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{} {} ({}, {})</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    row["time"][:19].replace("T", " "),
                    row["action"],
                    row["actor"]["type"],
                    row["actor"]["id"],
                    row["actor"]["role"],
                    row["channel"],
                    card_change_describe(row["object"].split(" ", 2)[-1]) if row["object"].count(" ") >= 2 else "",
                    row["outcome"],
                )
                for row in rows
            ),
        )
        header = format_html(
            "<tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            gettext("time"),
            gettext("action"),
            gettext("by"),
            gettext("change"),
            gettext("outcome"),
        )
        return format_html("<table>{}{}</table>", header, body)


# How cards.actions records a status change after "card:<id> v<version>": "active->lost reported-lost",
# "->pending first-issue" for an issue, "->pending renewal replaces card:7" for a reissue.
_STATUS_CHANGE = re.compile(
    r"^(?P<before>[a-z]*)->(?P<after>[a-z]+) (?P<reason>[a-z-]+)(?: replaces (?P<old>card:\d+))?$"
)


def card_change_describe(detail: str) -> str:
    """Return the status change a card history entry records in words, e.g. "active → reported lost (damaged)"."""
    match = _STATUS_CHANGE.match(detail)
    statuses, reasons = dict(Card.Status.choices), dict(CardReason.choices)
    if match is None or match["after"] not in statuses or match["reason"] not in reasons:
        return detail
    words = {"after": statuses[match["after"]], "reason": reasons[match["reason"]], "card": match["old"]}
    if match["before"] in statuses:
        return gettext("%(before)s → %(after)s (%(reason)s)") % {**words, "before": statuses[match["before"]]}
    if match["old"]:
        return gettext("→ %(after)s (%(reason)s), replacing %(card)s") % words
    return gettext("→ %(after)s (%(reason)s)") % words


class CameraFileInput(forms.ClearableFileInput):
    """A file field for a photo that can also be taken with the computer's camera (static/js/photo_capture.js)."""

    template_name = "admin/cards/residentphoto/camera_file_input.html"

    class Media:
        js = ("js/photo_capture.js",)


class ResidentPhotoUploadForm(forms.ModelForm):
    image = forms.FileField(
        label=_("Photo"),
        help_text=_(
            "JPEG or PNG, at most 5 MB, at least 240 x 320 pixels, or taken with the camera. "
            "It is re-encoded and its metadata removed."
        ),
        widget=CameraFileInput(attrs={"accept": "image/jpeg,image/png"}),
    )

    class Meta:
        model = ResidentPhoto
        fields = ["resident"]

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("image")
        if upload is not None:
            if upload.size > PHOTO_MAX_BYTES:
                limit = PHOTO_MAX_BYTES // (1024 * 1024)
                raise ValidationError({"image": _("The file is larger than %(limit)d MB.") % {"limit": limit}})
            data = upload.read()
            try:
                photo_clean(data)
            except PhotoInvalid as error:
                raise ValidationError({"image": str(error)}) from None
            cleaned["image_bytes"] = data
        return cleaned


@admin.register(ResidentPhoto)
class ResidentPhotoAdmin(ResidentDataAdmin):
    """Upload a resident's card photo, and approve or reject the ones residents submit."""

    ledger_prefix = "cards.photos"
    list_display = ["id", "resident", "status", "source", "created_at", "decided_at"]
    list_filter = ["status", "source"]
    list_select_related = ["resident"]
    raw_id_fields = ["resident"]
    readonly_fields = ["resident", "status", "source", "created_at", "decided_at", "erased_at", "preview"]
    actions = ["approve_photos", "reject_photos"]

    def has_decide_permission(self, request) -> bool:
        return request.user.has_perm("cards.change_residentphoto")

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # A photo is never edited; a new one supersedes it. Change rights open the approve/reject actions.
        return obj is None and super().has_change_permission(request, obj)

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ResidentPhotoUploadForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return ["resident", "image"] if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        photo = resident_photo_set(resident=form.cleaned_data["resident"], data=form.cleaned_data["image_bytes"])
        vars(obj).update(vars(photo))

    def get_urls(self):
        image = path(
            "<int:photo_id>/image.jpg",
            self.admin_site.admin_view(self.image_view),
            name="cards_residentphoto_image",
        )
        return [image, *super().get_urls()]

    def image_view(self, request, photo_id: int):
        """Serve one photo to a caseworker, no-store, recorded as one view."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        redirect = self._purpose_redirect(request)
        if redirect is not None:
            return redirect
        photo = ResidentPhoto.objects.select_related("resident").filter(pk=photo_id).first()
        if photo is None or photo.erased_at is not None:
            raise Http404("no such photo, or its image was erased")
        response = HttpResponse(resident_photo_open(photo=photo, shown_to="admin"), content_type="image/jpeg")
        response["Cache-Control"] = "no-store, private"
        response["X-Content-Type-Options"] = "nosniff"
        return response

    @admin.display(description=_("photo"))
    def preview(self, photo: ResidentPhoto):
        if photo.erased_at is not None:
            return gettext("image erased on %(date)s (retention period)") % {"date": f"{photo.erased_at:%Y-%m-%d}"}
        url = reverse(f"{self.admin_site.name}:cards_residentphoto_image", args=[photo.pk])
        alt = gettext("photo %(id)s") % {"id": photo.pk}
        return format_html('<img src="{}" alt="{}" width="180" height="240">', url, alt)

    def _decide(self, request, queryset, verb, done):
        for photo in queryset.select_related("resident"):
            try:
                verb(photo=photo)
            except CardsError as error:
                self.message_user(request, f"{photo}: {error}", messages.ERROR)
            else:
                self.message_user(request, f"{photo}: {done}")

    @admin.action(description=_("Approve the selected photos (they replace the printed photo)"), permissions=["decide"])
    def approve_photos(self, request, queryset):
        self._decide(request, queryset, resident_photo_approve, _("approved"))

    @admin.action(description=_("Reject the selected photos"), permissions=["decide"])
    def reject_photos(self, request, queryset):
        self._decide(request, queryset, resident_photo_reject, _("rejected"))
