/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* Unit tests for the bounded buffer and SSH wire codec (common/buf.c). */
#include "config.h"

#include <sys/types.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/frame.h"
#include "common/ipc.h"

static void
test_u32_u64_roundtrip(void **state)
{
	struct buf *b = buf_new();
	uint32_t v32;
	uint64_t v64;
	uint8_t v8;

	(void)state;
	assert_non_null(b);
	assert_int_equal(buf_put_u8(b, 0xab), 0);
	assert_int_equal(buf_put_u32(b, 0xdeadbeef), 0);
	assert_int_equal(buf_put_u64(b, 0x0102030405060708ULL), 0);
	assert_int_equal(buf_len(b), 13);
	assert_memory_equal(buf_ptr(b), "\xab\xde\xad\xbe\xef\x01\x02\x03"
	    "\x04\x05\x06\x07\x08", 13);
	assert_int_equal(buf_get_u8(b, &v8), 0);
	assert_int_equal(buf_get_u32(b, &v32), 0);
	assert_int_equal(buf_get_u64(b, &v64), 0);
	assert_int_equal(v8, 0xab);
	assert_int_equal(v32, 0xdeadbeef);
	assert_true(v64 == 0x0102030405060708ULL);
	assert_int_equal(buf_expect_empty(b), 0);
	assert_int_equal(buf_get_u8(b, &v8), TOK_ERR_MESSAGE_INCOMPLETE);
	buf_free(b);
}

static void
test_string_bounds(void **state)
{
	static const u_char truncated[] = { 0, 0, 0, 5, 'a', 'b' };
	static const u_char huge[] = { 0xff, 0xff, 0xff, 0xff, 'a' };
	static const u_char nul[] = { 0, 0, 0, 3, 'a', 0, 'b' };
	struct buf *b;
	const u_char *p;
	size_t len;
	char *s;

	(void)state;
	b = buf_from(truncated, sizeof(truncated));
	assert_int_equal(buf_get_string_direct(b, &p, &len),
	    TOK_ERR_MESSAGE_INCOMPLETE);
	assert_null(p);
	/* A failed getter leaves the buffer untouched. */
	assert_int_equal(buf_len(b), sizeof(truncated));
	buf_free(b);

	b = buf_from(huge, sizeof(huge));
	assert_int_equal(buf_get_string(b, NULL, NULL),
	    TOK_ERR_STRING_TOO_LARGE);
	buf_free(b);

	b = buf_from(nul, sizeof(nul));
	assert_int_equal(buf_get_cstring(b, &s, NULL), TOK_ERR_INVALID_FORMAT);
	assert_null(s);
	assert_int_equal(buf_len(b), sizeof(nul));
	assert_int_equal(buf_get_string(b, (u_char **)&s, &len), 0);
	assert_int_equal(len, 3);
	free(s);
	assert_int_equal(buf_expect_empty(b), 0);
	buf_free(b);
}

static void
test_every_prefix_fails_cleanly(void **state)
{
	struct buf *b = buf_new(), *v;
	char *s = NULL;
	uint32_t u;
	size_t i, full;

	(void)state;
	assert_int_equal(buf_put_cstring(b, "ssh-ed25519"), 0);
	assert_int_equal(buf_put_u32(b, 7), 0);
	assert_int_equal(buf_put_cstring(b, "comment"), 0);
	full = buf_len(b);
	for (i = 0; i < full; i++) {
		v = buf_from(buf_ptr(b), i);
		assert_non_null(v);
		assert_true(buf_get_cstring(v, &s, NULL) != 0 ||
		    buf_get_u32(v, &u) != 0 ||
		    buf_get_cstring(v, NULL, NULL) != 0);
		free(s);
		s = NULL;
		buf_free(v);
	}
	buf_free(b);
}

static void
test_bignum(void **state)
{
	static const u_char neg[] = { 0, 0, 0, 1, 0x80 };
	static const u_char v[] = { 0x00, 0x00, 0x80, 0x01 };
	struct buf *b = buf_new(), *n;
	const u_char *p;
	size_t len;

	(void)state;
	/* Leading zeros go, a sign byte comes: 00 80 01. */
	assert_int_equal(buf_put_bignum2_bytes(b, v, sizeof(v)), 0);
	assert_int_equal(buf_len(b), 7);
	assert_memory_equal(buf_ptr(b), "\0\0\0\3\0\x80\x01", 7);
	assert_int_equal(buf_get_bignum2_bytes_direct(b, &p, &len), 0);
	assert_int_equal(len, 2);
	assert_memory_equal(p, "\x80\x01", 2);
	/* Zero is an empty mpint. */
	assert_int_equal(buf_put_bignum2_bytes(b, "\0", 1), 0);
	assert_memory_equal(buf_ptr(b), "\0\0\0\0", 4);
	buf_free(b);
	n = buf_from(neg, sizeof(neg));
	assert_int_equal(buf_get_bignum2_bytes_direct(n, &p, &len),
	    TOK_ERR_INVALID_FORMAT);
	buf_free(n);
}

static void
test_max_size(void **state)
{
	struct buf *b = buf_new();
	u_char *p;

	(void)state;
	assert_int_equal(buf_set_max_size(b, 16), 0);
	assert_int_equal(buf_reserve(b, 16, &p), 0);
	assert_int_equal(buf_put_u8(b, 1), TOK_ERR_NO_BUFFER_SPACE);
	assert_int_equal(buf_consume(b, 8), 0);
	/* Consuming frees room: the data slides down. */
	assert_int_equal(buf_put_u32(b, 1), 0);
	assert_int_equal(buf_len(b), 12);
	buf_free(b);
}

static void
test_readonly_view(void **state)
{
	static const u_char d[] = { 0, 0, 0, 2, 'h', 'i', 9 };
	struct buf *b = buf_from(d, sizeof(d)), *s = NULL;

	(void)state;
	assert_int_equal(buf_put_u8(b, 1), TOK_ERR_INVALID_ARGUMENT);
	assert_int_equal(buf_froms(b, &s), 0);
	assert_int_equal(buf_len(s), 2);
	assert_memory_equal(buf_ptr(s), "hi", 2);
	assert_int_equal(buf_len(b), 1);
	assert_int_equal(buf_expect_empty(b), TOK_ERR_TRAILING_DATA);
	buf_free(s);
	buf_free(b);
}

static void
test_frames(void **state)
{
	struct buf *in = buf_new(), *m = NULL, *msg = buf_new();
	uint32_t id;
	uint8_t type;

	(void)state;
	assert_int_equal(ipc_msg_start(msg, 42, IPC_SIGN), 0);
	assert_int_equal(buf_put_cstring(msg, "x"), 0);
	assert_int_equal(frame_put(in, msg), 0);
	/* Half a frame is not a frame yet. */
	{
		struct buf *half = buf_from(buf_ptr(in), 6);

		assert_int_equal(frame_take(half, 1024, &m), 0);
		assert_null(m);
		buf_free(half);
	}
	assert_int_equal(frame_take(in, 4, &m), TOK_ERR_STRING_TOO_LARGE);
	assert_int_equal(frame_take(in, 1024, &m), 0);
	assert_non_null(m);
	assert_int_equal(ipc_msg_header(m, &id, &type), 0);
	assert_int_equal(id, 42);
	assert_int_equal(type, IPC_SIGN);
	assert_int_equal(buf_len(in), 0);
	buf_free(m);
	buf_free(in);
	buf_free(msg);
}

static void
test_b64(void **state)
{
	struct buf *d = buf_from("foobar", 6), *o = buf_new();

	(void)state;
	assert_int_equal(buf_dtob64(d, o), 0);
	assert_int_equal(buf_len(o), 8);
	assert_memory_equal(buf_ptr(o), "Zm9vYmFy", 8);
	buf_free(d);
	buf_free(o);
}

static void
test_b64_decode(void **state)
{
	static const char *const bad[] = {
		"Zm9", "Zm9v=mFy", "Zm9vY===", "Zm9vYm F", "Zm9vYm\nF",
		"Zm9vYm-_", "====", "Zg=a",
	};
	struct buf *o = buf_new();
	size_t i;

	(void)state;
	assert_int_equal(buf_b64tod("Zm9vYmFy", 8, o), 0);
	assert_int_equal(buf_len(o), 6);
	assert_memory_equal(buf_ptr(o), "foobar", 6);
	buf_reset(o);
	assert_int_equal(buf_b64tod("Zm9vYg==", 8, o), 0);
	assert_int_equal(buf_len(o), 4);
	assert_memory_equal(buf_ptr(o), "foob", 4);
	buf_reset(o);
	assert_int_equal(buf_b64tod("Zm9vYmE=", 8, o), 0);
	assert_int_equal(buf_len(o), 5);
	/* Appends; a refused text leaves what was there. */
	assert_int_equal(buf_put_u8(o, 'x'), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(buf_b64tod(bad[i], strlen(bad[i]), o),
		    TOK_ERR_INVALID_FORMAT);
		assert_int_equal(buf_len(o), 6);
	}
	assert_int_equal(buf_b64tod("", 0, o), TOK_ERR_INVALID_FORMAT);
	buf_free(o);
}

static void
test_ipc_sign(void **state)
{
	struct buf *m = buf_new();
	const u_char *data;
	uint64_t handle;
	uint32_t flags;
	size_t len;

	(void)state;
	assert_int_equal(buf_put_u64(m, 0x0102030405060708ULL), 0);
	assert_int_equal(buf_put_string(m, "abc", 3), 0);
	assert_int_equal(buf_put_u32(m, 4), 0);
	assert_int_equal(ipc_get_sign(m, &handle, &data, &len, &flags), 0);
	assert_true(handle == 0x0102030405060708ULL);
	assert_int_equal(len, 3);
	assert_memory_equal(data, "abc", 3);
	assert_int_equal(flags, 4);
	/* Trailing bytes (the old context string) and short payloads fail. */
	buf_reset(m);
	assert_int_equal(buf_put_u64(m, 1), 0);
	assert_int_equal(buf_put_string(m, "abc", 3), 0);
	assert_int_equal(buf_put_u32(m, 0), 0);
	assert_int_equal(buf_put_cstring(m, "context"), 0);
	assert_int_not_equal(ipc_get_sign(m, &handle, &data, &len, &flags), 0);
	assert_null(data);
	buf_reset(m);
	assert_int_equal(buf_put_u64(m, 1), 0);
	assert_int_equal(buf_put_u32(m, 100), 0);
	assert_int_not_equal(ipc_get_sign(m, &handle, &data, &len, &flags), 0);
	buf_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u32_u64_roundtrip),
		cmocka_unit_test(test_string_bounds),
		cmocka_unit_test(test_every_prefix_fails_cleanly),
		cmocka_unit_test(test_bignum),
		cmocka_unit_test(test_max_size),
		cmocka_unit_test(test_readonly_view),
		cmocka_unit_test(test_frames),
		cmocka_unit_test(test_b64),
		cmocka_unit_test(test_b64_decode),
		cmocka_unit_test(test_ipc_sign),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
