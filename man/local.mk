# man/: manual pages.
dist_man_MANS += man/tokagent.1
