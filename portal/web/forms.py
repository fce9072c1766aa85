"""Forms of the resident portal: they validate input, actions do the work."""

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from cards.national_id import NationalIdFormField, parse_national_id
from cards.photos import PHOTO_MAX_BYTES
from ledger.api import purposes_all as ledger_purposes_all
from portal.models import NotificationSetting, ProxyGrant
from portal.sms import sms_enabled
from services.core import catalogue

_OTP_WIDGET = forms.TextInput(
    attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9a-zA-Z]*", "spellcheck": "false"}
)


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label=_("National ID or username"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    error_messages = {
        "invalid_login": _("The national ID, username or password is wrong. Check them and try again."),
        "inactive": _("This account is disabled."),
    }


def _is_national_id(value: str) -> bool:
    try:
        parse_national_id(value)
    except ValidationError:
        return False
    return True


class ActivationForm(forms.Form):
    national_id = NationalIdFormField(label=_("National ID"), widget=forms.TextInput(attrs={"autocomplete": "off"}))
    code = forms.CharField(
        label=_("Activation code"),
        max_length=20,
        help_text=_("The 10-character code sent to you when your card was issued."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "spellcheck": "false"}),
    )
    username = forms.CharField(
        label=_("Choose a username"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "username"})
    )
    password1 = forms.CharField(
        label=_("Choose a password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Repeat the password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean_username(self):
        username = self.cleaned_data["username"]
        User = get_user_model()
        try:
            User.username_validator(username)
        except ValidationError as error:
            raise ValidationError(error.messages) from None
        if _is_national_id(username):
            # A username is stored and logged as it is; a national ID must never be.
            raise ValidationError(_("Choose a username that is not a national ID."))
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError(_("This username is taken. Choose another."))
        return username

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords differ."))
        elif first and cleaned.get("username"):
            user = get_user_model()(username=cleaned["username"])
            try:
                password_validation.validate_password(first, user=user)
            except ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class OneTimePasswordForm(forms.Form):
    otp_token = forms.CharField(
        label=_("Code from your authenticator app, or a backup code"), max_length=16, widget=_OTP_WIDGET
    )


class EnrolmentCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the e-mail"),
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class CardActivationForm(forms.Form):
    code = forms.CharField(
        label=_("Activation code"),
        max_length=20,
        help_text=_("The 10-character code sent to you when the new card was issued."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "spellcheck": "false"}),
    )


class ReportLostForm(forms.Form):
    confirm = forms.BooleanField(label=_("I have lost my card and want it blocked now."))


class PhotoSubmitForm(forms.Form):
    image = forms.FileField(
        label=_("Your photo"),
        help_text=_("A recent photo of your face, JPEG or PNG, at most 5 MB. A caseworker checks it before use."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png"}),
    )

    def clean_image(self):
        upload = self.cleaned_data["image"]
        # Before anything reads it: an upload larger than the limit is on disk, not to be read into memory.
        if upload.size > PHOTO_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(limit)d MB.") % {"limit": PHOTO_MAX_BYTES // (1024 * 1024)}
            )
        return upload


def _chinese() -> bool:
    return (get_language() or "").lower().startswith("zh")


class ConsentGrantForm(forms.Form):
    agency = forms.ChoiceField(label=_("Agency"))
    scope = forms.ChoiceField(label=_("What it may do"))
    purpose = forms.ChoiceField(label=_("Why"))

    def __init__(self, *args, agencies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].choices = [
            (agency.code, agency.name_zh_hans if _chinese() else agency.name_en) for agency in agencies
        ]
        self.fields["scope"].choices = [
            (code, gettext(scope.description))
            for code, scope in sorted(catalogue.scopes_all().items())
            if scope.consent_required
        ]
        self.fields["purpose"].choices = [
            (code, purpose.name) for code, purpose in sorted(catalogue.purposes_all().items())
        ]


class AccessFilterForm(forms.Form):
    actor = forms.ChoiceField(
        label=_("Who"),
        required=False,
        choices=[
            ("others", _("Organisations and caseworkers")),
            ("all", _("Everyone, including OneCard and you")),
            ("agency", _("Partner organisations")),
            ("staff", _("Caseworkers")),
            ("resident", _("You")),
            ("system", _("OneCard itself")),
        ],
    )
    service = forms.ChoiceField(label=_("Service"), required=False)
    purpose = forms.ChoiceField(label=_("Purpose"), required=False)
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        required=False,
        choices=[
            ("", _("Any")),
            ("ok", _("allowed")),
            ("denied", _("refused")),
            ("not_found", _("not found")),
            ("invalid", _("invalid")),
            ("error", _("error")),
        ],
    )
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, service_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].choices = [("", _("Any")), *service_choices]
        self.fields["purpose"].choices = [("", _("Any"))] + sorted(
            ((purpose.code, purpose.name) for purpose in ledger_purposes_all()), key=lambda choice: choice[1]
        )


class AccessReportForm(forms.Form):
    text = forms.CharField(
        label=_("What do you not recognise about this access?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )


class AccessReportReplyForm(forms.Form):
    text = forms.CharField(
        label=_("Your reply to the caseworker (you can reply once)"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class LanguageSelect(forms.Select):
    """A choice of language, each named in its own language and marked so (lang="..."), as a language switch is."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex=subindex, attrs=attrs)
        option["attrs"]["lang"] = value
        return option


class NotificationSettingForm(forms.Form):
    frequency = forms.ChoiceField(
        label=_("Tell me when an organisation or a caseworker accessed my data"),
        choices=NotificationSetting.Frequency.choices,
        widget=forms.RadioSelect,
    )
    channel = forms.ChoiceField(label=_("How"), choices=NotificationSetting.Channel.choices, widget=forms.RadioSelect)
    language = forms.ChoiceField(label=_("In which language"), choices=settings.LANGUAGES, widget=LanguageSelect)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not sms_enabled():
            # This installation sends no text messages: e-mail is the only way offered.
            self.fields["channel"].choices = [
                (value, label)
                for value, label in NotificationSetting.Channel.choices
                if value != NotificationSetting.Channel.SMS
            ]


class ClaimApplyForm(forms.Form):
    unemployed_since = forms.DateField(
        label=_("Date your unemployment began"), widget=forms.DateInput(attrs={"type": "date"})
    )
    reason = forms.CharField(
        label=_("Why your employment ended (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class ProxyInvitationForm(forms.Form):
    """An adult invites a family member to act for them."""

    relationship = forms.ChoiceField(
        label=_("Who is this person to you?"),
        choices=[
            (value, label)
            for value, label in ProxyGrant.Relationship.choices
            if value != ProxyGrant.Relationship.GUARDIAN
        ],
    )


class ProxyAcceptForm(forms.Form):
    """A resident enters the invitation code a family member gave them."""

    code = forms.CharField(
        label=_("Invitation code"),
        max_length=20,
        help_text=_("The 10-character code your family member got when they invited you, e.g. ABCDE-FGHIJ."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}),
    )
