"""Helpers for pullgate's end-to-end tests: free ports, polling waits, process
handling, a fresh PKI made with `pullgate pki`, guard configurations, a TLS and
raw HTTP client, and the counting origin app (origin_app.py)."""
