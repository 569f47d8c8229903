"""KMIP operations: pure functions of a request payload over an injected store, clock and entropy."""
