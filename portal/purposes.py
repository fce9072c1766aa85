from ledger.api import purpose_register

purpose_register("self-service", "A resident viewing or managing their own data")
purpose_register("demo-seeding", "Creating the demo data of the embedded default")
