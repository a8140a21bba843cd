# tests/unit/agent.mk
