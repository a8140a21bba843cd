# tests/integ/dest.mk
