from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from cards.actions import resident_register, resident_update_contact
from cards.models import Resident
from cards.selectors import resident_get_by_national_id, resident_search
from cards.validation import resident_fields_clean


class ResidentCreationForm(forms.ModelForm):
    national_id = forms.CharField(label="National ID", max_length=18, help_text="18 characters, GB 11643.")

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
class ResidentAdmin(admin.ModelAdmin):
    list_display = ["full_name", "national_id_masked", "phone", "birth_date", "province_code"]
    search_fields = ["full_name"]
    search_help_text = "Exact national ID, or part of a name or phone number."
    readonly_fields = ["national_id_masked", "birth_date", "sex", "province_code", "created_at", "updated_at"]
    fields = ["full_name", "phone", "email", "user", "national_id_masked", "birth_date", "sex", "province_code"]
    raw_id_fields = ["user"]

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
