"""The caseworkers' web app: one place in the browser for what the other services do.

It holds no case data of its own. Every page is built from the other services' HTTP APIs,
called with the signed-in person's own access token, so the access rules stay where they are
enforced: a page can show only what its reader could have fetched with curl.
"""
