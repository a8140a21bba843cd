/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * common/match.h: OpenSSH's pattern and pattern-list rules, the one matcher
 * every part of tokagent uses (the -P provider allowlist, the websafe
 * application list, destination constraints, known_hosts host fields and
 * host certificate principals).
 *
 * A pattern is compared byte by byte: '*' matches any run of bytes (also an
 * empty one), '?' exactly one byte, every other byte itself.  There is no
 * escape and no character class.
 */
#ifndef COMMON_MATCH_H
#define COMMON_MATCH_H

/* Longest subpattern of a list (OpenSSH's limit: a 1024-byte buffer). */
#define MATCH_SUBPATTERN_MAX	1023

/*
 * match_pattern: 1 when s matches pattern, else 0.  Never fails; time is
 * O(strlen(s) * strlen(pattern)) at worst, without recursion or allocation.
 */
int match_pattern(const char *s, const char *pattern)
    __attribute__((warn_unused_result));

/*
 * match_pattern_list: s against a comma-separated list of patterns, each
 * optionally negated with a leading '!'.  Returns 1 when some pattern
 * matches and no negated one does, -1 when a negated pattern matches (a
 * negation wins wherever it appears in the list), 0 otherwise.  An empty
 * list, and a list holding a subpattern of MATCH_SUBPATTERN_MAX bytes or
 * more, return 0.  With dolower the patterns are compared in lower case
 * (the caller lower-cases s itself, or uses match_hostname).
 */
int match_pattern_list(const char *s, const char *list, int dolower)
    __attribute__((warn_unused_result));

/*
 * match_hostname: match_pattern_list(lower-cased host, list, 1), as
 * OpenSSH compares host names.  0 also when out of memory.
 */
int match_hostname(const char *host, const char *list)
    __attribute__((warn_unused_result));

#endif /* COMMON_MATCH_H */
