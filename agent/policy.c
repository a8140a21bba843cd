/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* The policy language: parse a policy file and decide requests (see policy.h). */
#include "config.h"

#include <sys/stat.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/dest.h"
#include "agent/policy.h"
#include "common/err.h"
#include "common/match.h"

#define POLICY_MAX_WORDS	64	/* words on one line */
#define POLICY_MAX_FPS		4096	/* fingerprints named by one rule */
#define POLICY_RATE_KEYS	4096	/* keys whose rate one rule tracks */
#define POLICY_FP_BUCKETS	1024	/* fingerprint index, power of 2 */
#define POLICY_MAX_INTERVAL_MS	(366ULL * 24 * 3600 * 1000)
#define POLICY_CACHE_MAX	4096	/* keys whose rule is remembered */

enum policy_confirm {
	POLICY_CONFIRM_UNSET = 0,
	POLICY_CONFIRM_NEVER,
	POLICY_CONFIRM_ALWAYS,
	POLICY_CONFIRM_FORWARDED,
	POLICY_CONFIRM_UNLESS_PROGRAM,
};

/* Per key rate state of one rule: a token bucket, in thousandths. */
struct policy_rate {
	char *fingerprint;
	uint64_t last_ms;	/* last allowed use; 0: none yet */
	uint64_t milli_tokens;
	struct policy_rate *next;
};

struct policy_rule {
	unsigned int line;
	/* Which keys: every criterion that is set must match. */
	char **fps;			/* exact fingerprints, or NULL */
	size_t nfps;
	char *comment;			/* pattern lists, or NULL */
	char *key_type;
	char *serial;
	unsigned int tokens;		/* bit per enum policy_token; 0: any */
	/* What they may do. */
	int deny;
	int login;			/* -1: unset (yes) */
	int other_data;			/* -1: unset (yes) */
	int forwarding;			/* -1: unset (yes) */
	int remove_on_lock;
	char *namespaces;		/* NULL: any; "" (none): no SSHSIG */
	char *hosts;
	char *programs;
	char *callers;
	enum policy_confirm confirm;
	char *confirm_programs;
	uint64_t min_interval_ms;
	uint32_t rate_count;		/* 0: no rate limit */
	uint64_t rate_window_ms;
	struct policy_rate *rates;
	size_t nrates;
};

/* One entry of the fingerprint index: rules naming fp, in file order. */
struct policy_fp_entry {
	const char *fp;
	size_t *rules;
	size_t nrules;
	struct policy_fp_entry *next;
};

/* A key's facts and the rule that names it (NULL: none), remembered. */
struct policy_cached {
	char *fingerprint, *comment, *key_type, *serial;
	enum policy_token token;
	const struct policy_rule *rule;
	struct policy_cached *next;
};

struct policy {
	char *name;
	int default_deny;
	int default_confirm;
	enum policy_on_lock on_lock, on_suspend;
	char *audit_log;
	uint64_t audit_max_size;
	struct policy_rule *rules;
	size_t nrules;
	/* Rules without a fingerprint criterion, in file order. */
	size_t *general;
	size_t ngeneral;
	struct policy_fp_entry *fp_index[POLICY_FP_BUCKETS];
	/* Which rule names a key, by fingerprint hash: rules are not walked again. */
	struct policy_cached *cache[POLICY_FP_BUCKETS];
	size_t ncached;
};

/* ---- Parsing ------------------------------------------------------------ */

struct policy_parser {
	struct policy *pol;
	const char *name;
	unsigned int line;
	char *err;
	int r;
};

static void policy_error(struct policy_parser *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
policy_error(struct policy_parser *p, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (p->err != NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (asprintf(&p->err, "%s:%u: %s", p->name, p->line, msg) < 0)
		p->err = NULL;
	p->r = TOK_ERR_INVALID_FORMAT;
}

/*
 * Split one line into words, in place: blanks separate, "..." quotes (with
 * \" and \\), # starts a comment.  Returns the word count or -1 (error set).
 */
static int
policy_split(struct policy_parser *p, char *s, char **words)
{
	int n = 0;
	char *out;

	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0' || *s == '#')
			return n;
		if (n == POLICY_MAX_WORDS) {
			policy_error(p, "too many words");
			return -1;
		}
		words[n++] = out = s;
		while (*s != '\0' && *s != ' ' && *s != '\t') {
			if (*s != '"') {
				*out++ = *s++;
				continue;
			}
			for (s++; *s != '"'; s++) {
				if (*s == '\0') {
					policy_error(p, "unterminated quote");
					return -1;
				}
				if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
					s++;
				*out++ = *s;
			}
			s++;
		}
		if (*s != '\0')
			s++;
		*out = '\0';
	}
}

static int
policy_yesno(struct policy_parser *p, const char *kw, const char *v)
{
	if (strcmp(v, "yes") == 0)
		return 1;
	if (strcmp(v, "no") == 0)
		return 0;
	policy_error(p, "%s wants yes or no, not \"%s\"", kw, v);
	return -1;
}

/* A duration: N with an optional unit s, m (min), h, d; seconds by default. */
static int
policy_duration(struct policy_parser *p, const char *s, uint64_t *msp)
{
	unsigned long long n;
	uint64_t mult = 1000;
	char *end;

	*msp = 0;
	if (!isdigit((unsigned char)*s))
		goto bad;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno != 0)
		goto bad;
	if (*end == '\0' || strcmp(end, "s") == 0 || strcmp(end, "sec") == 0)
		mult = 1000;
	else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
		mult = 60 * 1000;
	else if (strcmp(end, "h") == 0)
		mult = 3600 * 1000;
	else if (strcmp(end, "d") == 0)
		mult = 24 * 3600 * 1000;
	else if (strcmp(end, "ms") == 0)
		mult = 1;
	else
		goto bad;
	if (n > POLICY_MAX_INTERVAL_MS / mult)
		goto bad;
	*msp = n * mult;
	return 0;
 bad:
	policy_error(p, "bad duration \"%s\" (e.g. 30s, 5m, 1h)", s);
	return -1;
}

/* A size: N with an optional K, M or G. */
static int
policy_size(struct policy_parser *p, const char *s, uint64_t *bytesp)
{
	unsigned long long n;
	uint64_t mult = 1;
	char *end;

	*bytesp = 0;
	if (!isdigit((unsigned char)*s))
		goto bad;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno != 0)
		goto bad;
	if (*end == 'K' || *end == 'k')
		mult = 1024;
	else if (*end == 'M' || *end == 'm')
		mult = 1024 * 1024;
	else if (*end == 'G' || *end == 'g')
		mult = 1024 * 1024 * 1024;
	else if (*end != '\0')
		goto bad;
	if (mult != 1 && end[1] != '\0')
		goto bad;
	if (n == 0 || n > (UINT64_C(1) << 40) / mult)
		goto bad;
	*bytesp = n * mult;
	return 0;
 bad:
	policy_error(p, "bad size \"%s\" (e.g. 512K, 10M)", s);
	return -1;
}

static int
policy_on_lock_word(struct policy_parser *p, const char *v,
    enum policy_on_lock *wp)
{
	if (strcmp(v, "forget") == 0)
		*wp = POLICY_ON_LOCK_FORGET;
	else if (strcmp(v, "lock") == 0)
		*wp = POLICY_ON_LOCK_LOCK;
	else if (strcmp(v, "remove") == 0)
		*wp = POLICY_ON_LOCK_REMOVE;
	else if (strcmp(v, "nothing") == 0)
		*wp = POLICY_ON_LOCK_NOTHING;
	else {
		policy_error(p, "\"%s\": want forget, lock, remove or nothing",
		    v);
		return -1;
	}
	return 0;
}

/* A pattern list for a setting: non-empty, no blanks (words are split). */
static int
policy_set_patterns(struct policy_parser *p, const char *kw, char **dstp,
    const char *v)
{
	if (*dstp != NULL) {
		policy_error(p, "%s given twice in one rule", kw);
		return -1;
	}
	if (*v == '\0' || strstr(v, ",,") != NULL || *v == ',' ||
	    v[strlen(v) - 1] == ',') {
		policy_error(p, "%s: empty pattern in \"%s\"", kw, v);
		return -1;
	}
	if ((*dstp = strdup(v)) == NULL) {
		p->r = TOK_ERR_ALLOC;
		return -1;
	}
	return 0;
}

static int
policy_global(struct policy_parser *p, char **w, int n)
{
	struct policy *pol = p->pol;

	if (n != 2) {
		policy_error(p, "%s takes one value", w[0]);
		return -1;
	}
	if (strcmp(w[0], "default") == 0) {
		if (strcmp(w[1], "allow") == 0)
			pol->default_deny = pol->default_confirm = 0;
		else if (strcmp(w[1], "deny") == 0)
			pol->default_deny = 1;
		else if (strcmp(w[1], "confirm") == 0)
			pol->default_confirm = 1;
		else {
			policy_error(p, "default wants allow, deny or confirm");
			return -1;
		}
		return 0;
	}
	if (strcmp(w[0], "audit-log") == 0) {
		if (w[1][0] != '/' && w[1][0] != '~') {
			policy_error(p, "audit-log wants an absolute path");
			return -1;
		}
		free(pol->audit_log);
		if ((pol->audit_log = strdup(w[1])) == NULL) {
			p->r = TOK_ERR_ALLOC;
			return -1;
		}
		return 0;
	}
	if (strcmp(w[0], "audit-log-size") == 0)
		return policy_size(p, w[1], &pol->audit_max_size);
	if (strcmp(w[0], "on-screen-lock") == 0)
		return policy_on_lock_word(p, w[1], &pol->on_lock);
	if (strcmp(w[0], "on-suspend") == 0)
		return policy_on_lock_word(p, w[1], &pol->on_suspend);
	policy_error(p, "unknown keyword \"%s\"", w[0]);
	return -1;
}

static int
policy_token_word(const char *s, size_t len)
{
	static const char *const names[] = { "software", "fido", "pkcs11",
	    "piv" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strlen(names[i]) == len && strncmp(s, names[i], len) == 0)
			return (int)i;
	}
	return -1;
}

static int
policy_fingerprints(struct policy_parser *p, struct policy_rule *rule,
    const char *v)
{
	const char *cp, *end;
	size_t len;
	char **fps;

	for (cp = v; ; cp = end + 1) {
		if ((end = strchr(cp, ',')) == NULL)
			end = cp + strlen(cp);
		len = end - cp;
		if (len < 8 || strncmp(cp, "SHA256:", 7) != 0) {
			policy_error(p, "fingerprint wants SHA256:..., "
			    "as ssh-add -l shows");
			return -1;
		}
		if (rule->nfps == POLICY_MAX_FPS) {
			policy_error(p, "too many fingerprints in one rule");
			return -1;
		}
		if ((fps = reallocarray(rule->fps, rule->nfps + 1,
		    sizeof(*fps))) == NULL) {
			p->r = TOK_ERR_ALLOC;
			return -1;
		}
		rule->fps = fps;
		if ((fps[rule->nfps] = strndup(cp, len)) == NULL) {
			p->r = TOK_ERR_ALLOC;
			return -1;
		}
		rule->nfps++;
		if (*end == '\0')
			return 0;
	}
}

/* "key CRITERION...": start a rule. */
static int
policy_rule_start(struct policy_parser *p, char **w, int n)
{
	struct policy *pol = p->pol;
	struct policy_rule *rule, *rules;
	const char *v, *cp, *end;
	int i, t, all = 0;

	if (pol->nrules == POLICY_MAX_RULES) {
		policy_error(p, "too many rules");
		return -1;
	}
	if ((rules = reallocarray(pol->rules, pol->nrules + 1,
	    sizeof(*rules))) == NULL) {
		p->r = TOK_ERR_ALLOC;
		return -1;
	}
	pol->rules = rules;
	rule = &rules[pol->nrules++];
	memset(rule, 0, sizeof(*rule));
	rule->line = p->line;
	rule->login = rule->other_data = rule->forwarding = -1;
	if (n < 2) {
		policy_error(p, "key wants what it matches (e.g. all, "
		    "comment=work-*, fingerprint=SHA256:...)");
		return -1;
	}
	for (i = 1; i < n; i++) {
		if (strcmp(w[i], "all") == 0) {
			all = 1;
			continue;
		}
		if ((v = strchr(w[i], '=')) == NULL) {
			policy_error(p, "\"%s\": want all or NAME=VALUE", w[i]);
			return -1;
		}
		v++;
		if (strncmp(w[i], "fingerprint=", 12) == 0) {
			if (policy_fingerprints(p, rule, v) != 0)
				return -1;
		} else if (strncmp(w[i], "comment=", 8) == 0) {
			if (policy_set_patterns(p, "comment", &rule->comment,
			    v) != 0)
				return -1;
		} else if (strncmp(w[i], "type=", 5) == 0) {
			if (policy_set_patterns(p, "type", &rule->key_type,
			    v) != 0)
				return -1;
		} else if (strncmp(w[i], "serial=", 7) == 0) {
			if (policy_set_patterns(p, "serial", &rule->serial,
			    v) != 0)
				return -1;
		} else if (strncmp(w[i], "token=", 6) == 0) {
			for (cp = v; ; cp = end + 1) {
				if ((end = strchr(cp, ',')) == NULL)
					end = cp + strlen(cp);
				if ((t = policy_token_word(cp,
				    end - cp)) < 0) {
					policy_error(p, "token wants software, "
					    "fido, pkcs11 or piv");
					return -1;
				}
				rule->tokens |= 1U << t;
				if (*end == '\0')
					break;
			}
		} else {
			policy_error(p, "unknown key criterion \"%.*s\"",
			    (int)(v - w[i] - 1), w[i]);
			return -1;
		}
	}
	if (all && n > 2) {
		policy_error(p, "\"all\" goes alone");
		return -1;
	}
	return 0;
}

static int
policy_rule_setting(struct policy_parser *p, char **w, int n)
{
	struct policy_rule *rule = &p->pol->rules[p->pol->nrules - 1];
	const char *kw = w[0];
	uint64_t ms;
	unsigned long long count;
	char *end;

	if (strcmp(kw, "deny") == 0) {
		if (n != 1) {
			policy_error(p, "deny takes no value");
			return -1;
		}
		rule->deny = 1;
		return 0;
	}
	if (strcmp(kw, "confirm") == 0) {
		if (rule->confirm != POLICY_CONFIRM_UNSET) {
			policy_error(p, "confirm given twice in one rule");
			return -1;
		}
		if (n == 2 && strcmp(w[1], "never") == 0)
			rule->confirm = POLICY_CONFIRM_NEVER;
		else if (n == 2 && strcmp(w[1], "always") == 0)
			rule->confirm = POLICY_CONFIRM_ALWAYS;
		else if (n == 2 && strcmp(w[1], "forwarded") == 0)
			rule->confirm = POLICY_CONFIRM_FORWARDED;
		else if (n == 3 && strcmp(w[1], "unless-program") == 0) {
			rule->confirm = POLICY_CONFIRM_UNLESS_PROGRAM;
			return policy_set_patterns(p, "confirm unless-program",
			    &rule->confirm_programs, w[2]);
		} else {
			policy_error(p, "confirm wants never, always, forwarded"
			    " or unless-program PATTERNS");
			return -1;
		}
		return 0;
	}
	if (n != 2) {
		policy_error(p, "%s takes one value", kw);
		return -1;
	}
	if (strcmp(kw, "login") == 0)
		return (rule->login = policy_yesno(p, kw, w[1])) < 0 ? -1 : 0;
	if (strcmp(kw, "other-data") == 0)
		return (rule->other_data = policy_yesno(p, kw, w[1])) < 0 ?
		    -1 : 0;
	if (strcmp(kw, "forwarding") == 0)
		return (rule->forwarding = policy_yesno(p, kw, w[1])) < 0 ?
		    -1 : 0;
	if (strcmp(kw, "remove-on-lock") == 0)
		return (rule->remove_on_lock = policy_yesno(p, kw, w[1])) < 0 ?
		    -1 : 0;
	if (strcmp(kw, "namespaces") == 0) {
		if (strcmp(w[1], "none") == 0) {
			if (rule->namespaces != NULL) {
				policy_error(p, "namespaces given twice in one "
				    "rule");
				return -1;
			}
			if ((rule->namespaces = strdup("")) == NULL) {
				p->r = TOK_ERR_ALLOC;
				return -1;
			}
			return 0;
		}
		return policy_set_patterns(p, kw, &rule->namespaces, w[1]);
	}
	if (strcmp(kw, "hosts") == 0)
		return policy_set_patterns(p, kw, &rule->hosts, w[1]);
	if (strcmp(kw, "programs") == 0)
		return policy_set_patterns(p, kw, &rule->programs, w[1]);
	if (strcmp(kw, "callers") == 0)
		return policy_set_patterns(p, kw, &rule->callers, w[1]);
	if (strcmp(kw, "min-interval") == 0) {
		if (policy_duration(p, w[1], &ms) != 0)
			return -1;
		rule->min_interval_ms = ms;
		return 0;
	}
	if (strcmp(kw, "max-rate") == 0) {
		/* N/DURATION, e.g. 10/1m; N/min, N/h are accepted too. */
		errno = 0;
		count = strtoull(w[1], &end, 10);
		if (!isdigit((unsigned char)w[1][0]) || errno != 0 ||
		    *end != '/' || count == 0 || count > POLICY_MAX_RATE) {
			policy_error(p, "max-rate wants N/DURATION with N from "
			    "1 to %d (e.g. 10/1m)", POLICY_MAX_RATE);
			return -1;
		}
		end++;
		if (strcmp(end, "min") == 0 || strcmp(end, "m") == 0)
			ms = 60 * 1000;
		else if (strcmp(end, "h") == 0)
			ms = 3600 * 1000;
		else if (strcmp(end, "s") == 0)
			ms = 1000;
		else if (policy_duration(p, end, &ms) != 0)
			return -1;
		if (ms == 0) {
			policy_error(p, "max-rate wants a window above zero");
			return -1;
		}
		rule->rate_count = (uint32_t)count;
		rule->rate_window_ms = ms;
		return 0;
	}
	policy_error(p, "unknown keyword \"%s\"", kw);
	return -1;
}

static uint32_t
policy_hash(const char *s)
{
	uint32_t h = 2166136261U;

	for (; *s != '\0'; s++)
		h = (h ^ (u_char)*s) * 16777619U;
	return h;
}

/* Index the rules for policy_decide: fingerprints by hash, the rest in order. */
static int
policy_index(struct policy *pol)
{
	struct policy_fp_entry *e;
	struct policy_rule *rule;
	size_t i, j, *v;
	uint32_t b;

	if (pol->nrules > 0 &&
	    (pol->general = calloc(pol->nrules, sizeof(size_t))) == NULL)
		return TOK_ERR_ALLOC;
	for (i = 0; i < pol->nrules; i++) {
		rule = &pol->rules[i];
		if (rule->nfps == 0) {
			pol->general[pol->ngeneral++] = i;
			continue;
		}
		for (j = 0; j < rule->nfps; j++) {
			b = policy_hash(rule->fps[j]) & (POLICY_FP_BUCKETS - 1);
			for (e = pol->fp_index[b]; e != NULL; e = e->next) {
				if (strcmp(e->fp, rule->fps[j]) == 0)
					break;
			}
			if (e == NULL) {
				if ((e = calloc(1, sizeof(*e))) == NULL)
					return TOK_ERR_ALLOC;
				e->fp = rule->fps[j];
				e->next = pol->fp_index[b];
				pol->fp_index[b] = e;
			}
			/* A rule naming one fingerprint twice is indexed once. */
			if (e->nrules > 0 && e->rules[e->nrules - 1] == i)
				continue;
			if ((v = reallocarray(e->rules, e->nrules + 1,
			    sizeof(*v))) == NULL)
				return TOK_ERR_ALLOC;
			e->rules = v;
			e->rules[e->nrules++] = i;
		}
	}
	return 0;
}

int
policy_parse(const char *name, const char *text, size_t len,
    struct policy **polp, char **errp)
{
	struct policy_parser p;
	char line[POLICY_MAX_LINE + 1], *words[POLICY_MAX_WORDS];
	const char *cp, *nl, *end = text + len;
	size_t ll;
	int n;

	*polp = NULL;
	if (errp != NULL)
		*errp = NULL;
	memset(&p, 0, sizeof(p));
	p.name = name;
	if (len > POLICY_MAX_FILE) {
		policy_error(&p, "file larger than %d bytes", POLICY_MAX_FILE);
		p.r = TOK_ERR_STRING_TOO_LARGE;
		goto out;
	}
	if ((p.pol = calloc(1, sizeof(*p.pol))) == NULL ||
	    (p.pol->name = strdup(name)) == NULL) {
		p.r = TOK_ERR_ALLOC;
		goto out;
	}
	for (cp = text; cp < end && p.r == 0; cp = nl + 1) {
		p.line++;
		if ((nl = memchr(cp, '\n', end - cp)) == NULL)
			nl = end;
		ll = nl - cp;
		if (ll > 0 && cp[ll - 1] == '\r')
			ll--;
		if (ll > POLICY_MAX_LINE) {
			policy_error(&p, "line longer than %d bytes",
			    POLICY_MAX_LINE);
			p.r = TOK_ERR_STRING_TOO_LARGE;
			break;
		}
		if (memchr(cp, '\0', ll) != NULL) {
			policy_error(&p, "NUL byte in line");
			break;
		}
		memcpy(line, cp, ll);
		line[ll] = '\0';
		if ((n = policy_split(&p, line, words)) <= 0)
			continue;
		if (strcmp(words[0], "key") == 0)
			(void)policy_rule_start(&p, words, n);
		else if (p.pol->nrules == 0)
			(void)policy_global(&p, words, n);
		else
			(void)policy_rule_setting(&p, words, n);
	}
	if (p.r == 0)
		p.r = policy_index(p.pol);
	if (p.r == 0) {
		*polp = p.pol;
		p.pol = NULL;
	}
 out:
	policy_free(p.pol);
	if (errp != NULL)
		*errp = p.err;
	else
		free(p.err);
	return p.r;
}

int
policy_load(const char *path, struct policy **polp, char **errp)
{
	struct stat st;
	char *text = NULL;
	size_t off = 0;
	ssize_t n;
	int fd, r = TOK_ERR_INTERNAL;

	*polp = NULL;
	if (errp != NULL)
		*errp = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		if (errno == ENOENT)
			return TOK_ERR_KEY_NOT_FOUND;
		if (errp != NULL && asprintf(errp, "%s: %s", path,
		    strerror(errno)) < 0)
			*errp = NULL;
		return TOK_ERR_SYSTEM;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		if (errp != NULL && asprintf(errp, "%s: not a regular file",
		    path) < 0)
			*errp = NULL;
		r = TOK_ERR_SYSTEM;
		goto out;
	}
	if (st.st_size > POLICY_MAX_FILE) {
		if (errp != NULL && asprintf(errp, "%s: larger than %d bytes",
		    path, POLICY_MAX_FILE) < 0)
			*errp = NULL;
		r = TOK_ERR_STRING_TOO_LARGE;
		goto out;
	}
	if ((text = malloc(POLICY_MAX_FILE + 1)) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	/* The file may grow while it is read: never past the bound. */
	while (off <= POLICY_MAX_FILE &&
	    (n = read(fd, text + off, POLICY_MAX_FILE + 1 - off)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errp != NULL && asprintf(errp, "%s: %s", path,
			    strerror(errno)) < 0)
				*errp = NULL;
			r = TOK_ERR_SYSTEM;
			goto out;
		}
		off += n;
	}
	r = policy_parse(path, text, off, polp, errp);
 out:
	free(text);
	close(fd);
	return r;
}

static void
policy_cached_free(struct policy_cached *c)
{
	free(c->fingerprint);
	free(c->comment);
	free(c->key_type);
	free(c->serial);
	free(c);
}

static void
policy_cache_flush(struct policy *pol)
{
	struct policy_cached *c, *next;
	size_t i;

	for (i = 0; i < POLICY_FP_BUCKETS; i++) {
		for (c = pol->cache[i]; c != NULL; c = next) {
			next = c->next;
			policy_cached_free(c);
		}
		pol->cache[i] = NULL;
	}
	pol->ncached = 0;
}

void
policy_free(struct policy *pol)
{
	struct policy_fp_entry *e, *enext;
	struct policy_rate *rt, *rnext;
	struct policy_rule *rule;
	size_t i, j;

	if (pol == NULL)
		return;
	policy_cache_flush(pol);
	for (i = 0; i < POLICY_FP_BUCKETS; i++) {
		for (e = pol->fp_index[i]; e != NULL; e = enext) {
			enext = e->next;
			free(e->rules);
			free(e);
		}
	}
	for (i = 0; i < pol->nrules; i++) {
		rule = &pol->rules[i];
		for (j = 0; j < rule->nfps; j++)
			free(rule->fps[j]);
		free(rule->fps);
		free(rule->comment);
		free(rule->key_type);
		free(rule->serial);
		free(rule->namespaces);
		free(rule->hosts);
		free(rule->programs);
		free(rule->callers);
		free(rule->confirm_programs);
		for (rt = rule->rates; rt != NULL; rt = rnext) {
			rnext = rt->next;
			free(rt->fingerprint);
			free(rt);
		}
	}
	free(pol->rules);
	free(pol->general);
	free(pol->audit_log);
	free(pol->name);
	free(pol);
}

size_t
policy_rule_count(const struct policy *pol)
{
	return pol == NULL ? 0 : pol->nrules;
}

/* ---- Deciding ----------------------------------------------------------- */

static int
policy_matches(const char *s, const char *list)
{
	return s != NULL && match_pattern_list(s, list, 0) == 1;
}

/* Does rule name the key of q?  (Fingerprints were looked up already.) */
static int
policy_rule_names(const struct policy_rule *rule, const struct policy_query *q)
{
	if (rule->tokens != 0 && (rule->tokens & (1U << q->token)) == 0)
		return 0;
	if (rule->comment != NULL && !policy_matches(q->comment, rule->comment))
		return 0;
	if (rule->key_type != NULL &&
	    !policy_matches(q->key_type, rule->key_type))
		return 0;
	if (rule->serial != NULL &&
	    !policy_matches(q->token_serial, rule->serial))
		return 0;
	return 1;
}

/* The first rule that names the key of q, or NULL. */
static const struct policy_rule *
policy_find(const struct policy *pol, const struct policy_query *q)
{
	const struct policy_fp_entry *e = NULL;
	size_t gi = 0, fi = 0, i;
	uint32_t b;

	if (pol == NULL)
		return NULL;
	if (q->fingerprint != NULL) {
		b = policy_hash(q->fingerprint) & (POLICY_FP_BUCKETS - 1);
		for (e = pol->fp_index[b]; e != NULL; e = e->next) {
			if (strcmp(e->fp, q->fingerprint) == 0)
				break;
		}
	}
	/* Merge the general rules with those naming this fingerprint. */
	for (;;) {
		if (gi < pol->ngeneral &&
		    (e == NULL || fi >= e->nrules ||
		    pol->general[gi] < e->rules[fi]))
			i = pol->general[gi++];
		else if (e != NULL && fi < e->nrules)
			i = e->rules[fi++];
		else
			return NULL;
		if (policy_rule_names(&pol->rules[i], q))
			return &pol->rules[i];
	}
}

static int
policy_same(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

static char *
policy_strdup0(const char *s, int *failp)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*failp = 1;
	return d;
}

/* policy_find, remembering the answer for the key's facts. */
static const struct policy_rule *
policy_find_cached(struct policy *pol, const struct policy_query *q)
{
	const struct policy_rule *rule;
	struct policy_cached *c;
	uint32_t b;
	int fail = 0;

	if (q->fingerprint == NULL)
		return policy_find(pol, q);
	b = policy_hash(q->fingerprint) & (POLICY_FP_BUCKETS - 1);
	for (c = pol->cache[b]; c != NULL; c = c->next) {
		if (c->token == q->token &&
		    strcmp(c->fingerprint, q->fingerprint) == 0 &&
		    policy_same(c->comment, q->comment) &&
		    policy_same(c->key_type, q->key_type) &&
		    policy_same(c->serial, q->token_serial))
			return c->rule;
	}
	rule = policy_find(pol, q);
	if (pol->ncached >= POLICY_CACHE_MAX)
		policy_cache_flush(pol);
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return rule;
	c->fingerprint = policy_strdup0(q->fingerprint, &fail);
	c->comment = policy_strdup0(q->comment, &fail);
	c->key_type = policy_strdup0(q->key_type, &fail);
	c->serial = policy_strdup0(q->token_serial, &fail);
	if (fail) {
		policy_cached_free(c);
		return rule;
	}
	c->token = q->token;
	c->rule = rule;
	c->next = pol->cache[b];
	pol->cache[b] = c;
	pol->ncached++;
	return rule;
}

/* programs: the requester's executable must match. */
static int
policy_program_ok(const char *list, const struct policy_query *q)
{
	return q->programs != NULL && policy_matches(q->programs[0], list);
}

/*
 * callers: some process of the chain (the requester or an ancestor) must
 * match, and none may match a negated pattern.
 */
static int
policy_callers_ok(const char *list, const struct policy_query *q)
{
	size_t i;
	int m, ok = 0;

	for (i = 0; q->programs != NULL && q->programs[i] != NULL; i++) {
		if ((m = match_pattern_list(q->programs[i], list, 0)) < 0)
			return 0;
		if (m == 1)
			ok = 1;
	}
	return ok;
}

static int
policy_host_ok(const char *list, const struct policy_query *q)
{
	size_t i;
	int m, ok = 0;

	for (i = 0; q->dest_hosts != NULL && q->dest_hosts[i] != NULL; i++) {
		if ((m = match_hostname(q->dest_hosts[i], list)) < 0)
			return 0;
		if (m == 1)
			ok = 1;
	}
	return ok;
}

static struct policy_rate *
policy_rate_state(struct policy_rule *rule, const char *fp)
{
	struct policy_rate *rt, *next;

	for (rt = rule->rates; rt != NULL; rt = rt->next) {
		if (strcmp(rt->fingerprint, fp) == 0)
			return rt;
	}
	if (rule->nrates >= POLICY_RATE_KEYS) {
		/*
		 * Bounded memory: forget every key's history (logged by the
		 * caller as an allowed use; keys are few in practice).
		 */
		for (rt = rule->rates; rt != NULL; rt = next) {
			next = rt->next;
			free(rt->fingerprint);
			free(rt);
		}
		rule->rates = NULL;
		rule->nrates = 0;
	}
	if ((rt = calloc(1, sizeof(*rt))) == NULL ||
	    (rt->fingerprint = strdup(fp)) == NULL) {
		free(rt);
		return NULL;
	}
	rt->milli_tokens = (uint64_t)rule->rate_count * 1000;
	rt->next = rule->rates;
	rule->rates = rt;
	rule->nrates++;
	return rt;
}

/* Rate limits: 0 when a use now is within them (and counts it), else -1. */
static int
policy_rate_take(struct policy_rule *rule, const struct policy_query *q,
    const char **reasonp)
{
	struct policy_rate *rt;
	uint64_t cap, elapsed, refill;

	if (rule->min_interval_ms == 0 && rule->rate_count == 0)
		return 0;
	if ((rt = policy_rate_state(rule, q->fingerprint ? q->fingerprint :
	    "")) == NULL) {
		*reasonp = "out of memory for the rate limit";
		return -1;
	}
	elapsed = rt->last_ms == 0 || q->now_ms < rt->last_ms ? UINT64_MAX :
	    q->now_ms - rt->last_ms;
	if (rule->min_interval_ms != 0 && elapsed < rule->min_interval_ms) {
		*reasonp = "used again before its min-interval";
		return -1;
	}
	if (rule->rate_count != 0) {
		/* A token bucket: bursts of N, refilled at N per window. */
		cap = (uint64_t)rule->rate_count * 1000;
		if (rt->last_ms != 0 && elapsed != UINT64_MAX) {
			refill = elapsed >= rule->rate_window_ms ? cap :
			    elapsed * cap / rule->rate_window_ms;
			rt->milli_tokens = rt->milli_tokens + refill > cap ?
			    cap : rt->milli_tokens + refill;
		}
		if (rt->milli_tokens < 1000) {
			*reasonp = "over its max-rate";
			return -1;
		}
		rt->milli_tokens -= 1000;
	}
	rt->last_ms = q->now_ms;
	return 0;
}

static void
policy_where(const struct policy *pol, const struct policy_rule *rule,
    struct policy_verdict *v)
{
	snprintf(v->where, sizeof(v->where), "%s:%u", pol->name, rule->line);
}

void
policy_decide(struct policy *pol, const struct policy_query *q,
    struct policy_verdict *v)
{
	struct policy_rule *rule;
	const char *reason = NULL;

	memset(v, 0, sizeof(*v));
	v->allow = 1;
	if (pol == NULL)
		return;
	if ((rule = (struct policy_rule *)policy_find_cached(pol, q)) == NULL) {
		snprintf(v->where, sizeof(v->where), "%s (default)", pol->name);
		if (pol->default_deny) {
			v->allow = 0;
			v->reason = "no rule names the key and the default "
			    "is deny";
		}
		v->confirm = pol->default_confirm;
		return;
	}
	policy_where(pol, rule, v);
	if (rule->deny)
		reason = "the key is denied";
	else if (q->use == POLICY_USE_LOGIN && rule->login == 0)
		reason = "the key may not sign SSH logins";
	else if (q->use == POLICY_USE_OTHER && rule->other_data == 0)
		reason = "the key may sign only SSH logins and SSHSIG data";
	else if (q->use == POLICY_USE_SSHSIG && rule->namespaces != NULL &&
	    (*rule->namespaces == '\0' ||
	    !policy_matches(q->sshsig_namespace, rule->namespaces)))
		reason = "the key may not sign for this SSHSIG namespace";
	else if (q->use == POLICY_USE_LOGIN && rule->hosts != NULL &&
	    !q->bound)
		reason = "the key has a hosts rule and the connection has no "
		    "verified destination";
	else if (q->use == POLICY_USE_LOGIN && rule->hosts != NULL &&
	    !policy_host_ok(rule->hosts, q))
		reason = "the destination is not in the key's hosts";
	else if (q->forwarded && rule->forwarding == 0)
		reason = "the key may not be used through agent forwarding";
	else if (rule->programs != NULL &&
	    !policy_program_ok(rule->programs, q))
		reason = "the requesting program is not in the key's programs";
	else if (rule->callers != NULL && !policy_callers_ok(rule->callers, q))
		reason = "no calling program is in the key's callers";
	if (reason == NULL)
		(void)policy_rate_take(rule, q, &reason);
	if (reason != NULL) {
		v->allow = 0;
		v->reason = reason;
		return;
	}
	switch (rule->confirm) {
	case POLICY_CONFIRM_ALWAYS:
		v->confirm = 1;
		break;
	case POLICY_CONFIRM_FORWARDED:
		v->confirm = q->forwarded;
		break;
	case POLICY_CONFIRM_UNLESS_PROGRAM:
		v->confirm = !policy_program_ok(rule->confirm_programs, q);
		break;
	case POLICY_CONFIRM_UNSET:
		v->confirm = pol->default_confirm;
		break;
	case POLICY_CONFIRM_NEVER:
		break;
	}
}

enum policy_on_lock
policy_on_lock(const struct policy *pol)
{
	return pol == NULL ? POLICY_ON_LOCK_FORGET : pol->on_lock;
}

enum policy_on_lock
policy_on_suspend(const struct policy *pol)
{
	return pol == NULL ? POLICY_ON_LOCK_FORGET : pol->on_suspend;
}

int
policy_remove_on_lock(const struct policy *pol, const struct policy_query *q)
{
	const struct policy_rule *rule;

	return (rule = policy_find(pol, q)) != NULL && rule->remove_on_lock;
}

const char *
policy_audit_log(const struct policy *pol)
{
	return pol == NULL ? NULL : pol->audit_log;
}

uint64_t
policy_audit_max_size(const struct policy *pol)
{
	return pol == NULL ? 0 : pol->audit_max_size;
}

const char *
policy_token_name(enum policy_token t)
{
	switch (t) {
	case POLICY_TOKEN_SOFTWARE:
		return "software";
	case POLICY_TOKEN_FIDO:
		return "fido";
	case POLICY_TOKEN_PKCS11:
		return "pkcs11";
	case POLICY_TOKEN_PIV:
		return "piv";
	}
	return "unknown";
}
