"""Writes of the payments app, split by domain: budget (counters), ledger
(transfers), payment (intents and their worker), documents (PDFs), and
notifications (the outbox)."""
