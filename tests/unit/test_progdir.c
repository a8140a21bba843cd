/*
 * Unit tests of progdir_resolve: where an agent finds its helpers.
 * Copyright (c) 2026 tokagent authors; see LICENSE.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/progdir.h"
#include "common/err.h"

static void
expect_dir(const char *exe, const char *bindir, const char *libexecdir,
    const char *want, int want_buildtree)
{
	char *dir = (char *)1;
	int bt = -1;

	assert_int_equal(progdir_resolve(exe, bindir, libexecdir, &dir, &bt),
	    0);
	assert_non_null(dir);
	assert_string_equal(dir, want);
	assert_int_equal(bt, want_buildtree);
	free(dir);
}

static void
expect_none(const char *exe, const char *bindir, const char *libexecdir)
{
	char *dir = (char *)1;
	int bt = -1;

	assert_int_not_equal(progdir_resolve(exe, bindir, libexecdir, &dir,
	    &bt), 0);
	assert_null(dir);
	assert_int_equal(bt, 0);
}

static void
test_installed(void **state)
{
	(void)state;
	expect_dir("/usr/local/bin/tokagent", "/usr/local/bin",
	    "/usr/local/libexec/tokagent", "/usr/local/libexec/tokagent", 0);
	expect_dir("/usr/bin/tokagent", "/usr/bin/", "/usr/libexec/tokagent/",
	    "/usr/libexec/tokagent", 0);
	expect_dir("/tokagent", "/", "/libexec", "/libexec", 0);
}

static void
test_staged(void **state)
{
	(void)state;
	/* make install DESTDIR=/tmp/stage */
	expect_dir("/tmp/stage/usr/local/bin/tokagent", "/usr/local/bin",
	    "/usr/local/libexec/tokagent",
	    "/tmp/stage/usr/local/libexec/tokagent", 0);
}

static void
test_build_tree(void **state)
{
	(void)state;
	expect_dir("/home/u/src/tokagent/build/agent/tokagent",
	    "/usr/local/bin", "/usr/local/libexec/tokagent",
	    "/home/u/src/tokagent/build", 1);
	expect_dir("/agent/tokagent", "/usr/bin", "/usr/libexec/tokagent", "/",
	    1);
	/* A build tree below a bindir-like path is still a build tree. */
	expect_dir("/usr/local/bin/x/agent/tokagent", "/usr/local/bin",
	    "/usr/local/libexec/tokagent", "/usr/local/bin/x", 1);
}

static void
test_neither(void **state)
{
	(void)state;
	/* Copied elsewhere: no helpers, rather than someone else's. */
	expect_none("/home/u/bin/tokagent", "/usr/local/bin",
	    "/usr/local/libexec/tokagent");
	expect_none("/usr/local/bin/tokagent2", "/usr/local/bin",
	    "/usr/local/libexec/tokagent");
	expect_none("/usr/local/binx/tokagent", "/usr/local/bin",
	    "/usr/local/libexec/tokagent");
	expect_none("/x/myagent/tokagent", "/usr/bin", "/usr/libexec");
	expect_none("/x/agent/xtokagent", "/usr/bin", "/usr/libexec");
	expect_none("tokagent", "/usr/bin", "/usr/libexec");
	expect_none("agent/tokagent", "/usr/bin", "/usr/libexec");
	expect_none("/usr/bin/tokagent", "usr/bin", "/usr/libexec");
	expect_none("/usr/bin/tokagent", "/usr/bin", "libexec");
	expect_none("", "/usr/bin", "/usr/libexec");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_installed),
		cmocka_unit_test(test_staged),
		cmocka_unit_test(test_build_tree),
		cmocka_unit_test(test_neither),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
