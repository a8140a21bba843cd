#!/bin/bash
# core-hostile-pipeline: a client that pipelines requests and never reads
# the replies stalls nobody.  With 200 keys loaded, one connection sends
# 1000 REQUEST_IDENTITIES and reads nothing; another client lists every
# 20 ms for 3 s and must get every answer (the agent stops reading the
# first client's input once its output queue is full, and builds replies
# in linear time).  Before, the agent stalled for tens of seconds.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
ti_tokagent_only "output queues and backpressure"
HOSTILE=$TI_BUILD/tests/integ/hostile
[ -x "$HOSTILE" ] || ti_fail "$HOSTILE not built"

ti_start_agent
n=$("$HOSTILE" add 200) || ti_fail "adding 200 keys: $n"
ti_assert_eq 200 "$(ti_agent_count)" "keys loaded"

out=$("$HOSTILE" pipeline 1000 3000) || ti_fail "pipeline: $out"
ti_log "other client while one pipelines 1000 lists unread: $out"
case $out in
*"failed=0"*) ;;
*) ti_fail "the other client was not answered: $out" ;;
esac
lists=$(printf '%s\n' "$out" | sed -n 's/.*lists=\([0-9]*\).*/\1/p')
max=$(printf '%s\n' "$out" | sed -n 's/.*max_ms=\([0-9]*\).*/\1/p')
[ "${lists:-0}" -ge 20 ] || ti_fail "the other client got only $lists lists"
# Not a latency target (that is the bench's): a stalled loop takes seconds.
[ "${max:-99999}" -lt 1000 ] ||
    ti_fail "a list took ${max} ms while another client did not read"

ti_assert_eq 200 "$(ti_agent_count)" "keys after the pipelining client left"
ti_agent_alive || ti_fail "agent died"
exit 0
