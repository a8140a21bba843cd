/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * agent/sockdir.c: sockets in ~/.ssh/agent/ as OpenSSH 10 names, creates
 * and cleans them (see sockdir.h).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "agent/sockdir.h"
#include "common/err.h"
#include "common/log.h"

/* OpenSSH's alphabet for random socket names and the host hash. */
static const char sockdir_chars[] =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
#define SOCKDIR_NCHARS	(sizeof(sockdir_chars) - 1)
#define SOCKDIR_RANDLEN	10

char *
sockdir_home(void)
{
	const char *h;
	struct passwd *pw;

	if ((h = getenv("HOME")) != NULL && *h != '\0')
		return strdup(h);
	if ((pw = getpwuid(getuid())) != NULL && pw->pw_dir != NULL &&
	    *pw->pw_dir != '\0')
		return strdup(pw->pw_dir);
	return NULL;
}

int
sockdir_hostname_hash(char *out, size_t outlen)
{
	char host[NI_MAXHOST];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t i;

	if (outlen < SOCKDIR_HASHLEN + 1) {
		error_f("buffer too small");
		return TOK_ERR_NO_BUFFER_SPACE;
	}
	memset(host, 0, sizeof(host));
	if (gethostname(host, sizeof(host) - 1) == -1) {
		error_f("gethostname: %s", strerror(errno));
		return TOK_ERR_SYSTEM;
	}
	if (EVP_Digest(host, strlen(host), md, &mdlen, EVP_sha512(),
	    NULL) != 1 || mdlen < SOCKDIR_HASHLEN) {
		error_f("SHA-512 failed");
		return TOK_ERR_LIBCRYPTO;
	}
	for (i = 0; i < SOCKDIR_HASHLEN; i++)
		out[i] = sockdir_chars[md[i] % SOCKDIR_NCHARS];
	out[SOCKDIR_HASHLEN] = '\0';
	return 0;
}

static int
sockdir_mkdir(const char *home, const char *sub)
{
	char path[PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", home, sub) >=
	    sizeof(path)) {
		error_f("path too long: %s/%s", home, sub);
		return TOK_ERR_INVALID_ARGUMENT;
	}
	if (mkdir(path, 0700) == 0)
		debug_f("created %s", path);
	else if (errno != EEXIST) {
		error_f("mkdir %s: %s", path, strerror(errno));
		return TOK_ERR_SYSTEM;
	}
	return 0;
}

int
sockdir_listen(const char *home, int *fdp, char *path, size_t pathlen)
{
	struct sockaddr_un sun;
	char hash[SOCKDIR_HASHLEN + 1];
	size_t xstart, i;
	mode_t old;
	int fd = -1, n, r;

	*fdp = -1;
	if (home == NULL || *home == '\0')
		return TOK_ERR_INVALID_ARGUMENT;
	if ((r = sockdir_mkdir(home, ".ssh")) != 0 ||
	    (r = sockdir_mkdir(home, SOCKDIR_SUBDIR)) != 0 ||
	    (r = sockdir_hostname_hash(hash, sizeof(hash))) != 0)
		return r;
	n = snprintf(path, pathlen, "%s/%s/s.%s.agent.", home, SOCKDIR_SUBDIR,
	    hash);
	if (n < 0 || (size_t)n + SOCKDIR_RANDLEN >= pathlen ||
	    (size_t)n + SOCKDIR_RANDLEN >= sizeof(sun.sun_path)) {
		error_f("socket path in %s/%s too long", home, SOCKDIR_SUBDIR);
		return TOK_ERR_NO_BUFFER_SPACE;
	}
	xstart = (size_t)n;
	old = umask(0177);
	for (;;) {
		for (i = 0; i < SOCKDIR_RANDLEN; i++)
			path[xstart + i] =
			    sockdir_chars[arc4random_uniform(SOCKDIR_NCHARS)];
		path[xstart + SOCKDIR_RANDLEN] = '\0';
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		memcpy(sun.sun_path, path, xstart + SOCKDIR_RANDLEN + 1);
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, 0)) == -1) {
			error_f("socket: %s", strerror(errno));
			break;
		}
		if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
			if (errno == EADDRINUSE) {
				close(fd);
				fd = -1;
				continue;
			}
			error_f("bind %s: %s", path, strerror(errno));
			close(fd);
			fd = -1;
			break;
		}
		if (listen(fd, SOMAXCONN) == -1) {
			error_f("listen %s: %s", path, strerror(errno));
			(void)unlink(path);
			close(fd);
			fd = -1;
		}
		break;
	}
	umask(old);
	if (fd == -1)
		return TOK_ERR_SYSTEM;
	*fdp = fd;
	return 0;
}

/* 1 when nobody accepts connections on path any more. */
static int
sockdir_is_stale(const char *path)
{
	struct sockaddr_un sun;
	int fd, stale = 0;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return 0;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1) {
		error_f("socket: %s", strerror(errno));
		return 0;
	}
	/*
	 * A socket without a listener refuses at once.  EAGAIN (a full
	 * backlog) means somebody is listening: not stale.
	 */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 &&
	    errno != EAGAIN && errno != EINPROGRESS) {
		debug_f("connect %s: %s", path, strerror(errno));
		stale = 1;
	}
	close(fd);
	return stale;
}

void
sockdir_clean_stale(const char *home, int all_hosts)
{
	char dirpath[PATH_MAX], path[PATH_MAX], prefix[SOCKDIR_HASHLEN + 4];
	char hash[SOCKDIR_HASHLEN + 1];
	struct dirent *dp;
	struct stat sb;
	DIR *d;
	time_t cutoff;

	if (home == NULL || *home == '\0')
		return;
	cutoff = time(NULL) - SOCKDIR_STALE_AGE_S;
	prefix[0] = '\0';
	if (!all_hosts) {
		if (sockdir_hostname_hash(hash, sizeof(hash)) != 0)
			return;
		(void)snprintf(prefix, sizeof(prefix), "s.%s.", hash);
	}
	if ((size_t)snprintf(dirpath, sizeof(dirpath), "%s/%s", home,
	    SOCKDIR_SUBDIR) >= sizeof(dirpath))
		return;
	if ((d = opendir(dirpath)) == NULL) {
		if (errno != ENOENT)
			error_f("opendir %s: %s", dirpath, strerror(errno));
		return;
	}
	while ((dp = readdir(d)) != NULL) {
		if (dp->d_type != DT_SOCK && dp->d_type != DT_UNKNOWN)
			continue;
		if (fstatat(dirfd(d), dp->d_name, &sb,
		    AT_SYMLINK_NOFOLLOW) != 0) {
			if (errno != ENOENT)
				error_f("stat %s/%s: %s", dirpath,
				    dp->d_name, strerror(errno));
			continue;
		}
		if (!S_ISSOCK(sb.st_mode))
			continue;
		if (sb.st_mtime > cutoff) {
			debug3_f("%s/%s: changed within the hour, kept",
			    dirpath, dp->d_name);
			continue;
		}
		if (!all_hosts &&
		    strncmp(dp->d_name, prefix, strlen(prefix)) != 0) {
			debug3_f("%s/%s: another host's, kept", dirpath,
			    dp->d_name);
			continue;
		}
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dirpath,
		    dp->d_name) >= sizeof(path))
			continue;
		if (sockdir_is_stale(path)) {
			debug_f("removing stale socket %s", path);
			if (unlinkat(dirfd(d), dp->d_name, 0) != 0 &&
			    errno != ENOENT)
				error_f("unlink %s: %s", path,
				    strerror(errno));
		}
	}
	closedir(d);
}
