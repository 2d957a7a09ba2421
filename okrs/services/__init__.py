"""Writes on OKRs. Every function takes keyword arguments and an explicit ``actor``,
checks permissions with ``okrs.permissions``, validates, runs in a transaction and
keeps the cached scores true through ``okrs.recalculation``."""
