"""The gateway: who may call what, an audit of every personal-data read, and views across services."""
