"""Alert rules over monitoring figures, alerts with their history, and their delivery (webhooks, email)."""
