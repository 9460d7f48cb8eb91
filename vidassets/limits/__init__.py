"""Limits on provider traffic: request-rate buckets (``rate``) and concurrency slots (``slots``),
in Redis when configured, in-process otherwise."""
