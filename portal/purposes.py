from ledger.api import purpose_register

purpose_register("self-service", "A resident viewing or managing their own data")
purpose_register("demo-seeding", "Creating the demo data of the embedded default")
purpose_register(
    "access-report-investigation", "Looking into a resident's report of an access to their data they do not recognise"
)
# Also registered by the ledger; registering twice is harmless.
purpose_register("ledger-audit", "Auditing the access ledger")
# Staff work purposes named by portal/roles.py; each service may describe its own more closely.
purpose_register("benefit-administration", "A caseworker deciding a social security benefit claim")
purpose_register("health-administration", "A health officer managing visits and prescriptions")
purpose_register("pharmacy-regulation", "Regulating pharmacies and drug purchase limits")
purpose_register("grant-review", "Reviewing or approving a grant application")
