"""Staff admin for partner agencies, their keys and grants, and resident consents.

Writes go through services.core.actions; consent changes are recorded to the
ledger under the caseworker and the purpose stated for the session (the
request's access context).
"""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from cards.admin_base import ResidentDataAdmin
from services.core import catalogue
from services.core.actions import agency_key_issue, agency_key_revoke, agency_key_rotate, consent_grant, consent_revoke
from services.core.models import Agency, AgencyKey, AgencyPurpose, AgencyScope, Consent

# The library's generic key table is not used: agencies' keys live in AgencyKey.
if admin.site.is_registered(APIKey):
    admin.site.unregister(APIKey)


class AgencyScopeForm(forms.ModelForm):
    scope = forms.ChoiceField(choices=catalogue.scope_choices)

    class Meta:
        model = AgencyScope
        fields = ["scope"]


class AgencyPurposeForm(forms.ModelForm):
    purpose = forms.ChoiceField(choices=catalogue.purpose_choices)

    class Meta:
        model = AgencyPurpose
        fields = ["purpose"]


class AgencyScopeInline(admin.TabularInline):
    model = AgencyScope
    form = AgencyScopeForm
    extra = 1
    verbose_name_plural = _("Scopes: what this agency may do")


class AgencyPurposeInline(admin.TabularInline):
    model = AgencyPurpose
    form = AgencyPurposeForm
    extra = 1
    verbose_name_plural = _("Purposes: why this agency may do it (sent in X-Purpose)")


class AgencyKeyInline(admin.TabularInline):
    model = AgencyKey
    fields = ["prefix", "name", "created", "expiry_date", "revoked"]
    readonly_fields = ["prefix", "name", "created", "expiry_date", "revoked"]
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = _("API keys (issue a new one under 'API keys')")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ["code", "name_en", "name_zh_hans", "kind", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name_en", "name_zh_hans"]
    inlines = [AgencyScopeInline, AgencyPurposeInline, AgencyKeyInline]


@admin.register(AgencyKey)
class AgencyKeyAdmin(APIKeyModelAdmin):
    list_display = ["prefix", "agency", "name", "created", "expiry_date", "expired", "revoked"]
    list_filter = ["agency__kind", "revoked"]
    search_fields = ["prefix", "name", "agency__code"]
    autocomplete_fields = ["agency"]
    actions = ["rotate_keys", "revoke_keys"]

    @admin.display(description=_("expired"), boolean=True)
    def expired(self, obj: AgencyKey) -> bool:
        # The library's own column (_has_expired) is labelled in English.
        return obj.has_expired

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return (*fields, "agency") if obj is not None else fields

    def save_model(self, request, obj, form, change) -> None:
        if change:
            obj.save()
            return
        key, secret = agency_key_issue(agency=obj.agency, name=obj.name, expires_at=obj.expiry_date)
        obj.pk, obj.prefix = key.pk, key.prefix
        messages.warning(
            request,
            _("The new key for %(agency)s is: %(secret)s. Give it to the agency now: it will never be shown again.")
            % {"agency": key.agency.code, "secret": secret},
        )

    @admin.action(description=_("Rotate: issue a new key, old one stops working in 7 days"))
    def rotate_keys(self, request, queryset) -> None:
        for key in queryset.filter(revoked=False):
            successor, secret = agency_key_rotate(key=key)
            messages.warning(
                request,
                _("New key for %(agency)s: %(secret)s (shown once). The old key %(old)s expires in 7 days.")
                % {"agency": key.agency.code, "secret": secret, "old": key.prefix},
            )

    @admin.action(description=_("Revoke now (cannot be undone)"))
    def revoke_keys(self, request, queryset) -> None:
        for key in queryset:
            agency_key_revoke(key=key)
        messages.success(request, _("%(count)d key(s) revoked.") % {"count": queryset.count()})


class ConsentForm(forms.ModelForm):
    scope = forms.ChoiceField(choices=catalogue.scope_choices)
    purpose = forms.ChoiceField(choices=catalogue.purpose_choices)

    class Meta:
        model = Consent
        fields = ["resident", "agency", "scope", "purpose", "expires_at"]


@admin.register(Consent)
class ConsentAdmin(ResidentDataAdmin):
    ledger_prefix = "services_core.consents"
    form = ConsentForm
    list_display = ["receipt_id", "agency", "scope", "purpose", "granted_at", "expires_at", "revoked_at"]
    list_filter = ["scope", "purpose", "agency__kind"]
    search_fields = ["receipt_id", "agency__code"]
    raw_id_fields = ["resident"]
    autocomplete_fields = ["agency"]
    readonly_fields = ["receipt_id", "granted_at", "revoked_at"]
    actions = ["revoke_consents"]

    def has_change_permission(self, request, obj=None) -> bool:
        # A consent is granted or revoked, never edited: the receipt must keep saying what was agreed.
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        saved = consent_grant(
            resident=obj.resident,
            agency=obj.agency,
            scope=obj.scope,
            purpose=obj.purpose,
            expires_at=obj.expires_at,
        )
        obj.pk, obj.receipt_id = saved.pk, saved.receipt_id

    # Revoking changes what the resident agreed to: it needs the change permission, not only view and add.
    @admin.action(description=_("Revoke the selected consents"), permissions=["change"])
    def revoke_consents(self, request, queryset) -> None:
        for consent in queryset:
            consent_revoke(consent=consent)
        messages.success(request, _("%(count)d consent(s) revoked.") % {"count": queryset.count()})
