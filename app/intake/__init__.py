"""Public intake: the report form, the receipt and the follow-up (the form arrives next)."""
