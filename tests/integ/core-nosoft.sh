#!/bin/bash
# core-nosoft (tokagent only): with software keys turned off the agent
# refuses `ssh-add KEY` and holds nothing.  The option name is
# --no-software-keys (XXX: to be confirmed by the agent's option parser).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
ti_tokagent_only "--no-software-keys"

ti_keygen ed25519 - "$TI_DIR/k"
ti_start_agent --no-software-keys
ti_expect_fail "ssh-add of a software key" ssh-add "$TI_DIR/k"
ti_assert_eq 0 "$(ti_agent_count)" "no key held"
ti_expect_fail "ssh-add -T" ssh-add -T "$TI_DIR/k.pub"
ti_agent_alive || ti_fail "agent died"

# The same agent without the option takes the key.
ti_stop_agent
ti_start_agent
ti_expect_ok "ssh-add with software keys on" ssh-add "$TI_DIR/k"
ti_assert_eq 1 "$(ti_agent_count)" "key held"
exit 0
