"""Domain errors raised by the portal's own actions."""


class PortalError(Exception):
    """Base class for errors a resident can be shown."""


class AccountAlreadyActive(PortalError):
    """The resident already has an account; they should sign in or reset the password."""


class ActivationRefused(PortalError):
    """The national ID and activation code do not match a card waiting for activation."""


class OneTimePasswordInvalid(PortalError):
    """The one-time password is wrong or was already used."""


class AccessEntryUnknown(PortalError):
    """No ledger entry about this resident has that reference."""


class ProxyRefused(PortalError):
    """A family proxy cannot be linked, invited, taken up or used as asked."""
