"""The audit of access: every read of a case's data by a person is recorded as an access event
before the data is sent, published to access-events, and folded back into lists for auditors."""
