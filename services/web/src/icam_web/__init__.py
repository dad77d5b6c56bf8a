"""The ICAM workspace in the browser (see services/web/README.md)."""
