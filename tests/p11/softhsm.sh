# tests/p11/softhsm.sh: private SoftHSM2 tokens for tests.  Source it (bash
# or POSIX sh), then:
#
#	p11_softhsm_available || skip	# softhsm2-util, pkcs11-tool, module
#	p11_softhsm_init "$DIR"		# SOFTHSM2_CONF + token dir in $DIR
#	p11_softhsm_token LABEL PIN [SOPIN]
#	p11_softhsm_keygen LABEL PIN ID KEYTYPE KEYLABEL
#	p11_softhsm_standard_keys LABEL PIN
#
# Nothing touches the machine's own SoftHSM configuration or tokens: every
# token lives under the directory given to p11_softhsm_init, and
# SOFTHSM2_CONF is exported for the helper / ssh-keygen / pkcs11-tool run
# by the test.
#
# Variables:
#	P11_SOFTHSM_MODULE	the module (default: the first of Debian's paths
#				that exists); override from the environment
#	P11_HAVE_ED25519	1 after p11_softhsm_standard_keys when the
#				module could make an Ed25519 key, else 0
#	P11_KEY_LABELS		labels of the keys p11_softhsm_standard_keys made

if [ -z "${P11_SOFTHSM_MODULE:-}" ]; then
	for p11__m in /usr/lib/softhsm/libsofthsm2.so \
	    /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so \
	    /usr/lib64/pkcs11/libsofthsm2.so /usr/local/lib/softhsm/libsofthsm2.so; do
		if [ -f "$p11__m" ]; then
			P11_SOFTHSM_MODULE=$p11__m
			break
		fi
	done
	P11_SOFTHSM_MODULE=${P11_SOFTHSM_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
fi
P11_HAVE_ED25519=0
P11_KEY_LABELS=

# Sanitizer builds: SoftHSM's own leaks are not ours (see lsan.supp); the
# slow unwinder lets stacks reach the module so the suppressions match.
p11__dir=$(cd "$(dirname "${BASH_SOURCE:-$0}")" 2>/dev/null && pwd)
if [ -n "$p11__dir" ] && [ -f "$p11__dir/lsan.supp" ]; then
	LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$p11__dir/lsan.supp}
	ASAN_OPTIONS=${ASAN_OPTIONS:-fast_unwind_on_malloc=0}
	export LSAN_OPTIONS ASAN_OPTIONS
fi

# p11_softhsm_available: true when SoftHSM2 and OpenSC's pkcs11-tool are here.
p11_softhsm_available()
{
	command -v softhsm2-util >/dev/null 2>&1 &&
	    command -v pkcs11-tool >/dev/null 2>&1 &&
	    [ -f "$P11_SOFTHSM_MODULE" ]
}

# p11_softhsm_init DIR: a private SoftHSM2 configuration in DIR (exported).
p11_softhsm_init()
{
	mkdir -p "$1/softhsm-tokens" || return 1
	cat >"$1/softhsm2.conf" <<EOF || return 1
directories.tokendir = $1/softhsm-tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
EOF
	SOFTHSM2_CONF=$1/softhsm2.conf
	export SOFTHSM2_CONF
}

# p11_softhsm_token LABEL PIN [SOPIN]: initialise a new token in a free slot.
p11_softhsm_token()
{
	softhsm2-util --init-token --free --label "$1" --pin "$2" \
	    --so-pin "${3:-12345678}" >/dev/null
}

# p11_softhsm_keygen TOKENLABEL PIN ID KEYTYPE KEYLABEL [PKCS11-TOOL-ARGS...]:
# a key pair on the token.  ID is hex (CKA_ID), KEYTYPE as pkcs11-tool takes
# it (RSA:2048, EC:prime256v1, EC:edwards25519...); extra arguments go to
# pkcs11-tool (e.g. --always-auth).
p11_softhsm_keygen()
{
	p11__tok=$1 p11__pin=$2 p11__id=$3 p11__type=$4 p11__label=$5
	shift 5
	pkcs11-tool --module "$P11_SOFTHSM_MODULE" --token-label "$p11__tok" \
	    --login --pin "$p11__pin" --keypairgen --key-type "$p11__type" \
	    --id "$p11__id" --label "$p11__label" "$@" >/dev/null 2>&1
}

# p11_softhsm_standard_keys TOKENLABEL PIN: RSA-2048, RSA-3072, P-256,
# P-384, P-521 and (when the module can) Ed25519 keys, labelled by type.
p11_softhsm_standard_keys()
{
	p11_softhsm_keygen "$1" "$2" 01 RSA:2048 rsa2048 &&
	p11_softhsm_keygen "$1" "$2" 02 RSA:3072 rsa3072 &&
	p11_softhsm_keygen "$1" "$2" 03 EC:prime256v1 p256 &&
	p11_softhsm_keygen "$1" "$2" 04 EC:secp384r1 p384 &&
	p11_softhsm_keygen "$1" "$2" 05 EC:secp521r1 p521 || return 1
	P11_KEY_LABELS="rsa2048 rsa3072 p256 p384 p521"
	# SoftHSM 2.6 has CKM_EC_EDWARDS_KEY_PAIR_GEN; older ones do not.
	if p11_softhsm_keygen "$1" "$2" 06 EC:edwards25519 ed25519; then
		P11_HAVE_ED25519=1
		P11_KEY_LABELS="$P11_KEY_LABELS ed25519"
	fi
	return 0
}
