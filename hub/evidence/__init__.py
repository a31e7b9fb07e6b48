"""Evidence for the police: requests and their two-person approval, the segments' hash chain and
its signed checkpoints, signed bundles that anyone verifies offline (``verify_bundle``)."""
