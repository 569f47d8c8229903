"""DeriveKey (KMIP 1.4 section 4.6; 2.1 section 6.1.12)."""
