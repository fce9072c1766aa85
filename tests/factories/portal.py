import time

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP

from portal.models import TOTPDevice
from tests.factories import ResidentFactory, UserFactory
from tests.factories.cards import CardFactory


def resident_with_account(**card_fields):
    """Return (user, resident, card, totp device): an activated resident with a confirmed authenticator."""
    user = UserFactory()
    user.save()  # the factory sets the password without saving it
    resident = ResidentFactory(user=user, email=user.email)
    card = CardFactory(resident=resident, **card_fields)
    device = TOTPDevice.objects.create(user=user, name="authenticator app", confirmed=True)
    return user, resident, card, device


def totp_now(device: TOTPDevice) -> str:
    """Return the code DEVICE shows at this moment."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def sign_in(client, user, device, *, step_up: bool = False) -> None:
    """Sign USER in on CLIENT with an OTP-verified session, optionally with a fresh step-up."""
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    if step_up:
        session["onecard_step_up_at"] = time.time()
    session.save()
