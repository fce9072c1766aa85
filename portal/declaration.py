"""What the portal declares: its purposes and the ledger actions it records. Loaded by PortalConfig.ready()."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from cards.admin_base import admin_actions
from ledger.api import actions_register, purpose_register

purpose_register(
    "self-service",
    name_en="You viewing or managing your own data",
    name_zh_hans="本人查看或管理自己的数据",
    legal_basis=gettext_noop("PIPL art. 44 and 45: the resident's right to know and to access their data"),
)
purpose_register(
    "demo-seeding",
    name_en="Creating the demo data of the embedded default",
    name_zh_hans="创建演示数据",
    legal_basis=gettext_noop("Not personal information: the demo residents are fictitious"),
)
purpose_register(
    "access-report-investigation",
    name_en="Looking into a resident's report of an access they do not recognise",
    name_zh_hans="调查居民报告的不明访问",
    legal_basis=gettext_noop("PIPL art. 50 and 54: handling the resident's request; compliance audits"),
)
purpose_register(
    "access-notification",
    name_en="Telling you who accessed your data, as you asked",
    name_zh_hans="按您的要求告知谁访问了您的数据",
    legal_basis="PIPL art. 44: the resident's right to know how their data is handled; sent at their request",
)

purpose_register(
    "family-proxy",
    name_en="Acting for a family member in the portal",
    name_zh_hans="在门户中为家人代办",
    legal_basis=gettext_noop(
        "PIPL art. 31: a minor's parent or guardian; PIPL art. 13(1): the adult's own consent, "
        "given and withdrawn in the portal"
    ),
)

actions_register(
    "portal",
    ("portal.accounts.activate", _("You activated your OneCard account"), False),
    ("portal.otp_devices.enrol", _("You set up an authenticator app for signing in"), False),
    ("portal.access_reports.open", _("You reported an access you do not recognise"), False),
    ("portal.access_reports.answer", _("A caseworker answered your report of an access"), False),
    ("portal.access_reports.reply", _("You replied to a caseworker's answer about an access"), False),
    ("portal.access_history.read", _("You read who accessed your data"), True),
    ("portal.access_history.digest", _("OneCard read who accessed your data to send you a summary"), True),
    ("portal.access_digests.send", _("A summary of who accessed your data was sent to you"), False),
    ("portal.notification_settings.read", _("Your notification settings were viewed"), True),
    ("portal.notification_settings.update", _("Your notification settings were changed"), False),
    *admin_actions("portal.access_reports", _("Your reports of accesses")),
    # Family proxies: recorded under both people (except act, under the proxy only: the accesses
    # themselves are under the dependant, with the proxy as actor). The object names the grant.
    ("portal.proxies.link", _("Family proxy linked by a caseworker"), False),
    ("portal.proxies.invite", _("Family proxy invitation made"), False),
    ("portal.proxies.accept", _("Family proxy invitation taken up"), False),
    ("portal.proxies.end", _("Family proxy ended"), False),
    ("portal.proxies.start", _("Started acting for a family member"), False),
    ("portal.proxies.stop", _("Stopped acting for a family member"), False),
    ("portal.proxies.act", _("Acted for a family member"), False),
    ("portal.proxies.list", _("Your family proxies were listed"), True),
    *admin_actions("portal.proxies", _("Your family proxies")),
)
