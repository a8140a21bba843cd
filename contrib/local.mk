# contrib/: bootstrap script, systemd user unit, askpass helpers, snippets.
EXTRA_DIST += contrib/bootstrap
EXTRA_DIST += contrib/demo
