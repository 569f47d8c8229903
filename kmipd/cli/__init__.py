"""The ``kmipd`` command."""
