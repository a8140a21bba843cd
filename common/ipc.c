/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* Helper protocol message headers (see ipc.h). */
#include "config.h"

#include "common/buf.h"
#include "common/err.h"
#include "common/ipc.h"

int
ipc_msg_start(struct buf *msg, uint32_t id, uint8_t type)
{
	int r;

	buf_reset(msg);
	if ((r = buf_put_u32(msg, id)) != 0 || (r = buf_put_u8(msg, type)) != 0)
		return r;
	return 0;
}

int
ipc_msg_header(struct buf *msg, uint32_t *idp, uint8_t *typep)
{
	uint32_t id;
	uint8_t type;
	int r;

	*idp = 0;
	*typep = 0;
	if ((r = buf_get_u32(msg, &id)) != 0 || (r = buf_get_u8(msg, &type)) != 0)
		return r;
	*idp = id;
	*typep = type;
	return 0;
}

int
ipc_get_sign(struct buf *msg, uint64_t *handlep, const u_char **datap,
    size_t *lenp, uint32_t *flagsp)
{
	const u_char *data;
	uint64_t handle;
	uint32_t flags;
	size_t len;
	int r;

	*handlep = 0;
	*datap = NULL;
	*lenp = 0;
	*flagsp = 0;
	if ((r = buf_get_u64(msg, &handle)) != 0 ||
	    (r = buf_get_string_direct(msg, &data, &len)) != 0 ||
	    (r = buf_get_u32(msg, &flags)) != 0 ||
	    (r = buf_expect_empty(msg)) != 0)
		return r;
	*handlep = handle;
	*datap = data;
	*lenp = len;
	*flagsp = flags;
	return 0;
}

int
ipc_msg_failure(struct buf *msg, uint32_t id, int err, const char *detail)
{
	int r;

	if (err >= 0)
		err = TOK_ERR_INTERNAL;
	if ((r = ipc_msg_start(msg, id, IPC_FAILURE)) != 0 ||
	    (r = buf_put_u32(msg, (uint32_t)-err)) != 0 ||
	    (r = buf_put_cstring(msg, detail == NULL ? "" : detail)) != 0)
		return r;
	return 0;
}
