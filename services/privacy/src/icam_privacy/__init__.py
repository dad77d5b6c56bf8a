"""The privacy service: the data keys of every person and household, their destruction on erasure
(with a receipt from every service), retention after closure with legal holds, subject access."""
