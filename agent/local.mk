# agent/: the tokagent daemon.
bin_PROGRAMS += agent/tokagent
agent_tokagent_SOURCES = agent/tokagent.c
agent_tokagent_LDADD = common/libcommon.la
