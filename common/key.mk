# common/key.mk: SSH keys, certificates and signatures (OpenSSL)
