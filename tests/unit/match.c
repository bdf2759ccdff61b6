/* SPDX-License-Identifier: AGPL-3.0-only */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "match.h"

/* The cases of ssh_config(5) PATTERNS and the corners around them. */
static const struct { const char *s, *p; int want; } globs[] = {
	{ "host.example.org", "*.example.org", 1 },
	{ "example.org", "*.example.org", 0 },
	{ "192.168.0.1", "192.168.0.?", 1 },
	{ "192.168.0.10", "192.168.0.?", 0 },
	{ "anything", "*", 1 },
	{ "", "*", 1 },
	{ "", "", 1 },
	{ "a", "", 0 },
	{ "abc", "a*c", 1 },
	{ "ac", "a*c", 1 },
	{ "abcbc", "a*bc", 1 },
	{ "abcbd", "a*bc", 0 },
	{ "LabBox", "labbox", 1 },
	{ "labbox", "LABBOX", 1 },
	{ "aaa", "a?a", 1 },
	{ "aa", "a?a", 0 },
	{ "a.b", "a?b", 1 },
	{ "x", "**", 1 },
	{ "abc", "*?*?*?*", 1 },
	{ "ab", "*?*?*?*", 0 },
};

static const struct { const char *s, *p; int want; } lists[] = {
	/* from ssh_config(5): */
	{ "a.example.com", "*.co.uk,*.example.com", 1 },
	{ "www.co.uk", "*.co.uk,*.example.com", 1 },
	{ "dialup.example.com", "!*.dialup.example.com,*.example.com", 1 },
	{ "x.dialup.example.com", "!*.dialup.example.com,*.example.com", -1 },
	{ "other.org", "!*.dialup.example.com,*.example.com", 0 },
	/* negation alone never matches */
	{ "foo", "!bar", 0 },
	{ "bar", "!bar", -1 },
	/* negation beats a positive match in either order */
	{ "bar", "*,!bar", -1 },
	{ "bar", "!bar,*", -1 },
	{ "www.example.edu", "!*.example.edu,*", -1 },
	{ "labbox", "!*.example.edu,*", 1 },
	{ "labbox", "lab*,x", 1 },
	{ "x", "lab*,x", 1 },
	{ "y", "lab*,x", 0 },
};

static void
test_globs(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(globs) / sizeof(globs[0]); i++) {
		if (match_glob(globs[i].s, globs[i].p) != globs[i].want)
			fail_msg("glob \"%s\" ~ \"%s\": want %d", globs[i].s,
			    globs[i].p, globs[i].want);
	}
}

static void
test_lists(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		if (match_list(lists[i].s, lists[i].p) != lists[i].want)
			fail_msg("list \"%s\" ~ \"%s\": want %d", lists[i].s,
			    lists[i].p, lists[i].want);
	}
}

#include "../lib/naive_match.h"

static void
enumerate(const char *alpha, size_t len, char *buf, size_t pos,
    void (*fn)(const char *, void *), void *arg)
{
	size_t i;

	buf[pos] = '\0';
	fn(buf, arg);
	if (pos == len)
		return;
	for (i = 0; alpha[i] != '\0'; i++) {
		buf[pos] = alpha[i];
		enumerate(alpha, len, buf, pos + 1, fn, arg);
	}
}

static const char *cur_pat;
static unsigned long compared;

static void
one_subject(const char *s, void *arg)
{
	if (match_glob(s, cur_pat) != naive(s, cur_pat))
		fail_msg("glob \"%s\" ~ \"%s\": reference says %d", s, cur_pat,
		    naive(s, cur_pat));
	compared++;
}

static void
one_pattern(const char *p, void *arg)
{
	char buf[8];

	cur_pat = p;
	enumerate("ab", 5, buf, 0, one_subject, NULL);
}

/* Every pattern up to 5 of {a,b,*,?} against every subject up to 5 of {a,b}. */
static void
test_exhaustive(void **state)
{
	char buf[8];

	enumerate("ab*?", 5, buf, 0, one_pattern, NULL);
	assert_true(compared > 50000);
}

/* A pathological pattern must not take exponential time. */
static void
test_no_backtracking_blowup(void **state)
{
	char s[4001], p[200];
	size_t i;

	memset(s, 'a', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	for (i = 0; i + 2 < sizeof(p); i += 2) {
		p[i] = '*';
		p[i + 1] = 'a';
	}
	p[i] = 'b';
	p[i + 1] = '\0';
	assert_int_equal(match_glob(s, p), 0);
}

static void
test_check(void **state)
{
	static const char *good[] = { "*", "a,b", "!*.x,*", "10.0.0.?",
		"fe80::*", "host_1-2" };
	static const char *bad[] = { "", ",", "a,", ",a", "a,,b", "!", "!,a",
		"a b", "a;b", "$(x)", "a\nb", "!!a", "a/b", "a@b" };
	struct sxerr e;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (match_list_check(good[i], &e) != 0)
			fail_msg("\"%s\" refused: %s", good[i], e.msg);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (match_list_check(bad[i], &e) != -1)
			fail_msg("\"%s\" accepted", bad[i]);
		assert_int_equal(e.ex, EX_CONFIG);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_globs),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_exhaustive),
		cmocka_unit_test(test_no_backtracking_blowup),
		cmocka_unit_test(test_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
