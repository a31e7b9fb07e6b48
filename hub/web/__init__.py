"""The hub's pages: server-rendered (Jinja2), in Bahasa Indonesia first and English (Babel catalogs),
with small ES modules where a page must move (players, the map)."""
