# token/: what every helper shares (the IPC server loop), and the software
# token helper that holds software keys.
noinst_LTLIBRARIES += token/libtoken.la
token_libtoken_la_SOURCES = token/server.c token/server.h \
	token/keystore.c token/keystore.h
pkglibexec_PROGRAMS += token/tokagent-soft-helper
token_tokagent_soft_helper_SOURCES = token/soft-helper.c token/soft.c \
	token/soft.h
token_tokagent_soft_helper_LDADD = token/libtoken.la common/libcommon.la \
	$(OPENSSL_LIBS) $(LIBBSD_LIBS)

# The PC/SC watcher: card and reader events for the agent.
pkglibexec_PROGRAMS += token/tokagent-pcsc-watcher
token_tokagent_pcsc_watcher_SOURCES = token/pcsc-watcher.c
token_tokagent_pcsc_watcher_CFLAGS = $(AM_CFLAGS) $(PCSC_CFLAGS)
token_tokagent_pcsc_watcher_LDADD = common/libcommon.la $(PCSC_LIBS) \
	$(OPENSSL_LIBS) $(LIBBSD_LIBS)
