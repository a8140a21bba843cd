#!/bin/bash
# tests/integ/p11-hostile-providers.sh: `ssh-add -s` cannot pile up helper
# processes.  100 adds of libraries that are no PKCS#11 modules (copies
# under distinct names, allowed by -P) all fail, and each failed add's
# helper exits and is reaped: afterwards the agent has the child processes
# and open descriptors it had before.  Provider helpers are bounded: with
# 32 providers loaded (copies of SoftHSM2) a 33rd is refused with a clear
# log line, and accepted once one is removed; removing them all leaves no
# helper behind.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
. "$TI_SRC/tests/p11/softhsm.sh"
ti_tokagent_only "provider helper lifecycle and bound"

p11_softhsm_available || ti_skip "SoftHSM2 / pkcs11-tool not installed"
ti_require_cmd ssh-add pgrep
MODULE=$P11_SOFTHSM_MODULE
PIN=97531
MAX=32

p11_softhsm_init "$TI_DIR" || ti_fail "softhsm init"
p11_softhsm_token bound "$PIN" || ti_fail "token init"
p11_softhsm_keygen bound "$PIN" 01 EC:prime256v1 p256 || ti_fail "keygen"

# A shared library that is no PKCS#11 module: the build's FIDO middleware,
# else zlib.
notp11=$TI_BUILD/sk/.libs/tokagent-sk.so
if [ ! -f "$notp11" ]; then
	notp11=$(ldconfig -p | awk '/libz\.so\.1 / { print $NF; exit }')
fi
[ -n "$notp11" ] && [ -f "$notp11" ] || ti_fail "no non-PKCS#11 library found"
mkdir -p "$TI_DIR/libs" || ti_fail mkdir
for i in $(seq 1 100); do
	cp "$notp11" "$TI_DIR/libs/notp11-$i.so" || ti_fail "cp"
done
for i in $(seq 1 $((MAX + 1))); do
	cp "$MODULE" "$TI_DIR/libs/softhsm-$i.so" || ti_fail "cp"
done

ti_askpass_setup "pass:$PIN"
ti_start_agent -P "$TI_DIR/libs/*"

children() { pgrep -P "$TI_AGENT_PID" | wc -l; }
fds() { ls "/proc/$TI_AGENT_PID/fd" | wc -l; }
# settle N: wait (up to 10 s) until the agent has N children.
settle()
{
	local _
	for _ in $(seq 100); do
		[ "$(children)" = "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

base_children=$(children)
base_fds=$(fds)
ti_log "baseline: $base_children children, $base_fds fds"

for i in $(seq 1 100); do
	if ssh-add -s "$TI_DIR/libs/notp11-$i.so" >/dev/null 2>&1; then
		ti_fail "ssh-add -s of a non-PKCS#11 library succeeded"
	fi
done
settle "$base_children" ||
    ti_fail "after 100 failed adds: $(children) children (baseline $base_children)"
ti_log "after 100 failed adds: $(children) children, $(fds) fds"
ti_assert_eq "$base_fds" "$(fds)" "agent descriptors after 100 failed adds"
ti_assert_eq 0 "$(ti_agent_count)" "keys after failed adds"

# The bound: MAX providers load, one more is refused until one goes.
for i in $(seq 1 $MAX); do
	ti_expect_ok "ssh-add -s provider $i" ssh-add -s "$TI_DIR/libs/softhsm-$i.so"
done
ti_expect_fail "provider $((MAX + 1)) (over the bound)" \
    ssh-add -s "$TI_DIR/libs/softhsm-$((MAX + 1)).so"
grep -q "$MAX providers are loaded already" "$TI_AGENT_LOG" ||
    ti_fail "no clear log line for the provider bound"
ti_expect_ok "ssh-add -e provider 1" ssh-add -e "$TI_DIR/libs/softhsm-1.so"
ti_expect_ok "provider $((MAX + 1)) after a removal" \
    ssh-add -s "$TI_DIR/libs/softhsm-$((MAX + 1)).so"
ti_expect_ok "signs with a token key" ssh-add -T <(ssh-add -L | head -n 1)

for i in $(seq 2 $((MAX + 1))); do
	ti_expect_ok "ssh-add -e provider $i" ssh-add -e "$TI_DIR/libs/softhsm-$i.so"
done
settle "$base_children" ||
    ti_fail "after removing all providers: $(children) children (baseline $base_children)"
ti_assert_eq "$base_fds" "$(fds)" "agent descriptors after removing all"
ti_agent_alive || ti_fail "agent died"
exit 0
