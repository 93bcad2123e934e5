"""Market events from a broker: wire schemas (``schemas``) and the JetStream client (``broker``)."""
