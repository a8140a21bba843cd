/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * A small JSON writer for one-line records (audit log, events, status).
 * Strings are escaped so that any bytes, hostile ones included, give valid
 * JSON: quotes, backslashes and control characters are escaped, and bytes
 * that are not valid UTF-8 become U+FFFD.  The first error sticks: later
 * calls do nothing and json_finish reports it.
 */
#ifndef COMMON_JSON_H
#define COMMON_JSON_H

#include <stdint.h>

#define JSON_MAX_DEPTH	16
#define JSON_MAX_LEN	(1024 * 1024)	/* bytes in one record */
#define JSON_INITIAL_CAP	1024

struct json;

/* json_new: a writer with an open top-level object, or NULL on no memory. */
struct json *json_new(void);
/* json_free: release j (NULL ok). */
void json_free(struct json *j);
/*
 * Members.  key is the member name inside an object and must be NULL inside
 * an array.  json_str with s NULL writes null.
 */
void json_str(struct json *j, const char *key, const char *s);
void json_strn(struct json *j, const char *key, const char *s, size_t len);
void json_int(struct json *j, const char *key, int64_t v);
void json_bool(struct json *j, const char *key, int v);
/* json_raw: a value that is already JSON (made by json_finish). */
void json_raw(struct json *j, const char *key, const char *json);
void json_obj_begin(struct json *j, const char *key);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j, const char *key);
void json_arr_end(struct json *j);
/*
 * json_finish: close the top-level object and return the record as a new
 * NUL-terminated string (no newline) in *sp; frees j.  Returns 0, or the
 * first error (TOK_ERR_ALLOC, TOK_ERR_NO_BUFFER_SPACE past JSON_MAX_LEN,
 * TOK_ERR_INVALID_ARGUMENT for unbalanced or too deep nesting).
 */
int json_finish(struct json *j, char **sp) __attribute__((warn_unused_result));

#endif /* COMMON_JSON_H */
