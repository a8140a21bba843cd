#!/bin/sh
# makeCredential + getAssertion for ES256 and EdDSA, verified by libfido2;
# up=false gives an assertion without a touch; foreign handles are refused.
. "$(dirname "$0")/lib.sh"

vf_start a
for alg in es256 eddsa; do
	ok make "$(dev a)" alg=$alg out="$T/$alg.cred"
	has "fmt=packed"
	has "flags=0x41"
	ok assert "$(dev a)" cred="$T/$alg.cred"
	has "flags=0x01"
	ok assert "$(dev a)" cred="$T/$alg.cred" up=0
	has "flags=0x00"
	ko FIDO_ERR_NO_CREDENTIALS assert "$(dev a)" cred="$T/$alg.cred" \
	    rp=other
done
ctl a log
case "$OUT" in
*"makeCredential up=1 uv=0; getAssertion up=1 uv=0; getAssertion up=0 uv=0"*) ;;
*) fail "log: $OUT" ;;
esac

# credential of another token
vf_start b
ko FIDO_ERR_NO_CREDENTIALS assert "$(dev b)" cred="$T/es256.cred"
# counter grows
ok assert "$(dev a)" cred="$T/es256.cred"
c1=$(sigcount)
ok assert "$(dev a)" cred="$T/eddsa.cred"
c2=$(sigcount)
[ "$c2" -gt "$c1" ] || fail "counter $c1 -> $c2"
exit 0
