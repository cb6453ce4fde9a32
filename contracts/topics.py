"""Topic names on the log. Case topics are keyed by case id, so a case's events stay in order;
account-events is keyed by account; access-events by case id, or account for a case list."""

CASE_EVENTS = "case-events"
"""Everything caseworkers record about a case; written by intake only."""

ALERT_EVENTS = "alert-events"
"""Notify's stream per case: the deadlines it worked out and the alerts it raised, from raised
to delivered, acknowledged, snoozed or withdrawn."""

CASEFILE_DEAD_LETTERS = "casefile.dead-letters"
"""Messages casefile could not decode or apply, with the reason and their original position."""

NOTIFY_DEAD_LETTERS = "notify.dead-letters"
"""Messages notify could not decode or apply, with the reason and their original position."""

ACCOUNT_EVENTS = "account-events"
"""Accounts opened, roles changed, sessions revoked; keyed by account, read by every service."""

ACCESS_EVENTS = "access-events"
"""Who read which case's data, when and from where (never the data itself); written by casefile
before it answers, keyed by case id (a case list by the reader's account), kept forever."""

ALL_TOPICS = (CASE_EVENTS, ALERT_EVENTS, CASEFILE_DEAD_LETTERS, NOTIFY_DEAD_LETTERS,
              ACCOUNT_EVENTS, ACCESS_EVENTS)
