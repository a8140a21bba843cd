# tests/unit/key.mk
