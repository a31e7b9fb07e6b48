"""Vendor-neutral helpers for device plugins: HTTP with digest auth,
multipart event streams and hardened XML parsing.

They know no vendor; a third-party plugin uses them exactly as ours do.
"""
