"""The regulators' admin: dispensations, controlled caps and over-the-counter limits, settlement, and flags."""

from django.contrib import admin, messages
from django.http import Http404, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from cards.admin_base import ResidentDataAdmin, purpose_redirect
from services.pharmacy.actions import flag_review
from services.pharmacy.models import (
    ControlledCap,
    Dispensation,
    OtcProduct,
    OtcRestriction,
    SettlementReport,
    SuspiciousPatternFlag,
)
from services.pharmacy.selectors import dispensation_queryset, flag_queryset, settlement_report_csv


@admin.register(Dispensation)
class DispensationAdmin(ResidentDataAdmin):
    ledger_prefix = "pharmacy.dispensations"
    read_only = True
    list_display = [
        "dispensed_at",
        "resident",
        "pharmacy",
        "drug_name",
        "quantity",
        "days_supply",
        "controlled_class",
        "price",
        "insured_share",
        "resident_share",
    ]
    list_filter = ["controlled_class", "pharmacy"]
    date_hierarchy = "dispensed_at"

    def get_queryset(self, request):
        return dispensation_queryset()


@admin.register(ControlledCap)
class ControlledCapAdmin(admin.ModelAdmin):
    list_display = ["controlled_class", "max_days_supply", "period_days"]


class OtcProductInline(admin.TabularInline):
    model = OtcProduct
    extra = 0


@admin.register(OtcRestriction)
class OtcRestrictionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "max_amount_mg", "period_days"]
    inlines = [OtcProductInline]


@admin.register(OtcProduct)
class OtcProductAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "restriction", "amount_mg", "is_active"]
    list_filter = ["restriction", "is_active"]
    search_fields = ["code", "name"]


@admin.register(SettlementReport)
class SettlementReportAdmin(admin.ModelAdmin):
    list_display = [
        "day",
        "pharmacy",
        "dispensation_count",
        "total_price",
        "insured_total",
        "resident_total",
        "produced_at",
        "csv_link",
    ]
    list_filter = ["pharmacy"]
    date_hierarchy = "day"
    list_select_related = ["pharmacy"]

    def get_urls(self):
        view = self.admin_site.admin_view(self.csv_download)
        return [path("<int:report_id>/csv/", view, name="pharmacy_settlementreport_csv"), *super().get_urls()]

    @admin.display(description=_("CSV"))
    def csv_link(self, report: SettlementReport) -> str:
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:pharmacy_settlementreport_csv", args=[report.pk]), _("Download")
        )

    def csv_download(self, request, report_id: int) -> HttpResponse:
        if not self.has_view_permission(request):
            raise Http404("no such report")
        report = SettlementReport.objects.select_related("pharmacy").filter(pk=report_id).first()
        if report is None:
            raise Http404("no such report")
        redirect = purpose_redirect(request, self.admin_site)
        if redirect is not None:
            return redirect
        body = settlement_report_csv(report=report)
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="settlement-{report.pharmacy.code}-{report.day}.csv"'
        return response

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SuspiciousPatternFlag)
class SuspiciousPatternFlagAdmin(ResidentDataAdmin):
    ledger_prefix = "pharmacy.flags"
    # The worklist needs the change permission for the review action; a flag itself is never edited in a form.
    read_only = True
    list_display = ["raised_at", "resident", "kind", "detail", "status", "reviewed_by"]
    list_filter = ["status", "kind"]
    actions = ["mark_reviewed"]

    def get_queryset(self, request):
        return flag_queryset()

    @admin.action(description=_("Mark the selected flags reviewed"), permissions=["change"])
    def mark_reviewed(self, request, queryset) -> None:
        for flag in queryset:
            flag_review(flag=flag, reviewer=request.user.get_username())
        messages.success(request, _("%(count)d flag(s) marked reviewed.") % {"count": queryset.count()})
