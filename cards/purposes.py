from ledger.api import purpose_register

purpose_register("registration", "Registering a resident or correcting their register entry")
purpose_register("card-administration", "Issuing, suspending, resuming, revoking or reissuing a card")
purpose_register("identity-verification", "Checking that a card or credential is genuine and in force")
