"""A runner for the OASIS KMIP profile test cases (XML), usable against any KMIP server.

The test cases are not shipped with kmipd: users download them from OASIS. The
runner reads them from ``KMIPD_KMIP_VECTORS`` or from ``../shared/kmip-test-vectors``
next to a source checkout, or from paths given on the command line.
"""
