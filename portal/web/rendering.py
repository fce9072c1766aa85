"""Render every form field with GOV.UK Frontend's markup: form group, label, hint, error message, input."""

from django.forms.boundfield import BoundField
from django.forms.renderers import TemplatesSetting

# GOV.UK Frontend's class for each Django widget type (BoundField.widget_type); anything else is an input.
_WIDGET_CLASSES = {
    "checkbox": "govuk-checkboxes__input",
    "select": "govuk-select",
    "selectmultiple": "govuk-select",
    "nullbooleanselect": "govuk-select",
    "textarea": "govuk-textarea",
    "file": "govuk-file-upload",
    "clearablefile": "govuk-file-upload",
}
# Widgets whose error state is shown by the form group alone.
_NO_ERROR_MODIFIER = {"govuk-checkboxes__input"}
_WIDTHS = {"date": "govuk-input--width-10", "number": "govuk-input--width-10"}


class GovukBoundField(BoundField):
    """A bound field whose widget and label carry GOV.UK Frontend's classes, next to any of their own."""

    def build_widget_attrs(self, attrs, widget=None):
        widget = widget or self.field.widget
        attrs = super().build_widget_attrs(attrs, widget)
        if widget.is_hidden:
            return attrs
        govuk = _WIDGET_CLASSES.get(self.widget_type, "govuk-input")
        classes = [widget.attrs.get("class", ""), attrs.get("class", ""), govuk, _WIDTHS.get(self.widget_type, "")]
        if self.errors and govuk not in _NO_ERROR_MODIFIER:
            classes.append(f"{govuk}--error")
        attrs["class"] = " ".join(name for name in classes if name)
        return attrs

    @property
    def govuk_label(self):
        """Return the label tag with GOV.UK's classes and no trailing colon."""
        classes = "govuk-label govuk-checkboxes__label" if self.widget_type == "checkbox" else "govuk-label"
        return self.label_tag(attrs={"class": classes}, label_suffix="")

    @property
    def govuk_legend(self):
        """Return the legend of a field shown as a fieldset (radio buttons, several checkboxes)."""
        return self.legend_tag(attrs={"class": "govuk-fieldset__legend govuk-fieldset__legend--s"}, label_suffix="")


class GovukFormRenderer(TemplatesSetting):
    """Render forms with the project's templates: `{{ form }}` gives an error summary and GOV.UK form groups.

    The staff admin renders its fields itself, so only the classes on its widgets change, next to its own.
    """

    form_template_name = "portal/forms/form.html"
    field_template_name = "portal/forms/field.html"
    bound_field_class = GovukBoundField
