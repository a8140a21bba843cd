# tests/valgrind/: the valgrind pass of CI (.ci/run runs tests/valgrind/run
# on the default build; tests/valgrind/check is its log compiler).
EXTRA_DIST += tests/valgrind/run tests/valgrind/check \
	tests/valgrind/valgrind.supp
