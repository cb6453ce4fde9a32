"""Topic names on the log. Every topic is keyed by case id, so a case's events stay in order."""

CASE_EVENTS = "case-events"
"""Everything caseworkers record about a case; written by intake only."""

ALERT_EVENTS = "alert-events"
"""Facts notify derives from deadlines, such as an inquiry going overdue."""

CASEFILE_DEAD_LETTERS = "casefile.dead-letters"
"""Messages casefile could not decode or apply, with the reason and their original position."""

ALL_TOPICS = (CASE_EVENTS, ALERT_EVENTS, CASEFILE_DEAD_LETTERS)
