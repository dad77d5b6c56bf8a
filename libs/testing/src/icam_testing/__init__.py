"""Test harness: real servers for integration tests (see `icam_testing.plugin`)."""
