# man/: manual pages.
dist_man_MANS += man/tokagent.1 man/tokagent-policy.5
