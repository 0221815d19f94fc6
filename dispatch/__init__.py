"""Who gets an alert, the escalation ladder, and delivery with retries."""
