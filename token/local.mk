# token/: what every helper shares (token/runtime.h: the main skeleton, the
# IPC loop with its hello and heartbeat; token/keystore.h: keys by handle),
# the software token helper that holds software keys, and the PC/SC watcher
# (token/pcsc-watch.h: following readers and cards, also for the PIV
# helper).
noinst_LTLIBRARIES += token/libtoken.la
token_libtoken_la_SOURCES = token/runtime.c token/runtime.h \
	token/keystore.c token/keystore.h
token_libtoken_la_CFLAGS = $(AM_CFLAGS) -pthread
token_libtoken_la_LIBADD = common/libcommon.la -lpthread

pkglibexec_PROGRAMS += token/tokagent-soft-helper
token_tokagent_soft_helper_SOURCES = token/soft-helper.c token/soft.c \
	token/soft.h
token_tokagent_soft_helper_LDADD = token/libtoken.la common/libcommon.la \
	$(OPENSSL_LIBS) $(LIBBSD_LIBS) -lpthread

# The PC/SC watcher: card and reader events for the agent.
pkglibexec_PROGRAMS += token/tokagent-pcsc-watcher
token_tokagent_pcsc_watcher_SOURCES = token/pcsc-watcher.c \
	token/pcsc-watch.c token/pcsc-watch.h
token_tokagent_pcsc_watcher_CFLAGS = $(AM_CFLAGS) $(PCSC_CFLAGS) -pthread
token_tokagent_pcsc_watcher_LDADD = token/libtoken.la common/libcommon.la \
	$(PCSC_LIBS) $(OPENSSL_LIBS) $(LIBBSD_LIBS) -lpthread
