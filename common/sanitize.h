/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * One sanitiser for every field of a prompt, notice, log line or status
 * record that a client, a remote host, a device or a module controls (user
 * names in login requests, SSHSIG namespaces, known_hosts names, key
 * comments, process names and command lines, token labels).  Peer text is
 * data, not layout: whatever the bytes, the result is one line of
 * printable text of bounded width that can not pose as the agent's own
 * words.
 *
 * Rules, applied to the input as bytes:
 *   - printable ASCII is kept; a backslash becomes "\\", and in quoted
 *     output a double quote becomes "\"";
 *   - \n \r \t and ESC become "\n" "\r" "\t" "\e", other C0 bytes and DEL
 *     become "\xHH";
 *   - well-formed UTF-8 is kept, except code points that move or hide text
 *     (C1 controls, bidirectional overrides and isolates, zero-width and
 *     invisible formatting characters, line and paragraph separators,
 *     non-characters, the BOM), which become "\u{XXXX}";
 *   - every byte that is not part of well-formed UTF-8 (overlong forms,
 *     surrogates, truncated sequences, > U+10FFFF) becomes "\xHH";
 *   - the result is at most max columns wide (a column is one kept
 *     character or one character of an escape); longer input is cut at a
 *     character boundary and ends in "..." (within max).
 */
#ifndef COMMON_SANITIZE_H
#define COMMON_SANITIZE_H

#include <stddef.h>

#define SANITIZE_QUOTE		0x01	/* wrap in "..." (counted in max) */

/* Per-field width bounds, in columns, used by prompts and notices. */
#define SANITIZE_MAX_SHORT	24	/* a name in a first line */
#define SANITIZE_MAX_NAME	64	/* user, host, namespace, comment */
#define SANITIZE_MAX_LINE	160	/* a command line, a path */
#define SANITIZE_MAX_MIN	8	/* smaller max values are raised to it */

/*
 * sanitize_mem: the sanitised rendering of the len bytes at p (NULL with
 * len 0 is ""), at most max columns (max < SANITIZE_MAX_MIN counts as
 * SANITIZE_MAX_MIN).  flags: SANITIZE_QUOTE or 0.  Returns a new string
 * (caller frees) or NULL on no memory.
 */
char *sanitize_mem(const void *p, size_t len, size_t max, int flags);
/* sanitize_str: sanitize_mem over the NUL-terminated s (NULL: "?"). */
char *sanitize_str(const char *s, size_t max);
/* sanitize_quoted: sanitize_str, quoted: "\"...\"". */
char *sanitize_quoted(const char *s, size_t max);
/*
 * sanitize_width: the columns the string s takes on a terminal when s is
 * well-formed UTF-8 (as sanitize_* output is): one per code point.
 */
size_t sanitize_width(const char *s);

#endif /* COMMON_SANITIZE_H */
