"""KMIP protocol layer: specification tables, enums and text names."""
