"""Persistence of managed objects behind a small transactional interface."""
