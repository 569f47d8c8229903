"""The network edge: Twisted, pyOpenSSL, framing, client identity and the worker thread pool."""
