"""Parley's mail (docs/contract.md §2 ``PARLEY_SMTP_URL``): readers' notifications, the
moderators' digest, one-click unsubscribe, and the log of every mail."""
