"""Running the system: the embedded broker for laptops and tests, and the local stack."""
