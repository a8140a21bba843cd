# tests/unit/dest.mk
