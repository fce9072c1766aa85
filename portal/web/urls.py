from django.urls import path

from portal.web import accounts, enrolment, grants, pages, sections

app_name = "portal"

urlpatterns = [
    path("login/", accounts.LoginView.as_view(), name="login"),
    path("logout/", accounts.LogoutView.as_view(), name="logout"),
    path("activate/", accounts.activate, name="activate"),
    path("account/otp/enrol/", accounts.otp_enrol, name="otp-enrol"),
    path("account/otp/enrol/email/", enrolment.enrolment_email, name="otp-enrol-email"),
    path("account/otp/verify/", accounts.otp_verify, name="otp-verify"),
    path("account/step-up/", accounts.step_up, name="step-up"),
    path("account/backup-codes/", accounts.backup_codes, name="backup-codes"),
    path("password-reset/", accounts.password_reset, name="password-reset"),
    path("password-reset/sent/", accounts.password_reset_sent, name="password-reset-sent"),
    path("password-reset/<uidb64>/<token>/", accounts.password_reset_confirm, name="password-reset-confirm"),
    path("password-reset/done/", accounts.password_reset_complete, name="password-reset-complete"),
    path("me/", pages.dashboard, name="dashboard"),
    path("me/card/", pages.card, name="card"),
    path("me/card/qr.png", pages.card_qr_download, name="card-qr-png"),
    path("me/card/printable.png", pages.card_printable_download, name="card-printable"),
    path("me/card/printable.pdf", pages.card_printable_pdf_download, name="card-printable-pdf"),
    path("me/card/report-lost/", pages.card_report_lost_view, name="card-report-lost"),
    path("me/card/activate/", pages.card_activate_view, name="card-activate"),
    path("me/pharmacy/", pages.pharmacy, name="pharmacy"),
    path("me/pharmacy/qr.svg", pages.pharmacy_qr, name="pharmacy-qr"),
    path("me/consents/", pages.consents, name="consents"),
    path("me/consents/grant/", pages.consent_grant_view, name="consent-grant"),
    path("me/consents/<uuid:receipt_id>/revoke/", pages.consent_revoke_view, name="consent-revoke"),
    path("me/consents/<uuid:receipt_id>/receipt.json", pages.consent_receipt_download, name="consent-receipt"),
    path("me/services/social-security/", sections.social_security, name="social-security"),
    path(
        "me/services/social-security/statement.csv",
        sections.statement_download,
        {"format": "csv"},
        name="social-security-statement-csv",
    ),
    path(
        "me/services/social-security/statement.pdf",
        sections.statement_download,
        {"format": "pdf"},
        name="social-security-statement-pdf",
    ),
    path("me/services/social-security/claims/apply/", sections.claim_apply, name="social-security-claim-apply"),
    path("me/services/health/", sections.health, name="health"),
    path("me/services/grants/", sections.grants, name="grants"),
    path("me/grants/<slug:code>/apply/", grants.grant_apply, name="grant-apply"),
    path("me/grants/applications/<int:application_id>/appeal/", grants.grant_appeal, name="grant-appeal"),
    path("me/access/", pages.access_history, name="access-history"),
    path("me/access/<str:reference>/proof.json", pages.access_proof, name="access-proof"),
    path("me/access/<str:reference>/report/", pages.access_report, name="access-report"),
]
