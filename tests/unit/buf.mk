# tests/unit/buf.mk
