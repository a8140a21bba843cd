# tests/integ/core.mk
