# common/key.mk: SSH keys, certificates and signatures (OpenSSL)
common_libcommon_la_SOURCES += \
	common/key.c common/key.h common/key_impl.h \
	common/key_mldsa.c \
	common/key_priv.c \
	common/key_sig.c \
	common/mldsa44.c common/mldsa44.h
