"""Encrypt, Decrypt, MAC, MACVerify, Hash, RNGRetrieve, RNGSeed (KMIP 1.4 sections 4.29-4.35)."""
