"""ICAM notification service: letters, e-mails and SMS in the person's language, delivered exactly once."""
