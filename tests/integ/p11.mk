# tests/integ/p11.mk
