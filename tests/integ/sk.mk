# tests/integ/sk.mk
