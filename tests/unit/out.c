/* SPDX-License-Identifier: AGPL-3.0-only */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "out.h"

static char *
render(const struct out_table *t, int aligned, int header)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	assert_non_null(fp);
	out_table_print(t, fp, aligned, header);
	fclose(fp);
	return buf;
}

static void
test_table(void **state)
{
	const char *h[] = { "NAME", "STATE", "PORT" };
	const char *r1[] = { "labbox", "up", "2222" };
	const char *r2[] = { "x", NULL, "22" };
	struct out_table *t;
	char *s;

	assert_non_null(t = out_table_new(3, h));
	assert_int_equal(out_table_add(t, r1), 0);
	assert_int_equal(out_table_add(t, r2), 0);
	s = render(t, 1, 1);
	assert_string_equal(s, "NAME    STATE  PORT\n"
	    "labbox  up     2222\n"
	    "x       -      22\n");
	free(s);
	s = render(t, 0, 0);
	assert_string_equal(s, "labbox\tup\t2222\nx\t-\t22\n");
	free(s);
	s = render(t, 0, 1);
	assert_string_equal(s, "NAME\tSTATE\tPORT\nlabbox\tup\t2222\nx\t-\t22\n");
	free(s);
	out_table_free(t);
}

static void
test_json(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	out_json_str(fp, "a\"b\\c\n\t\x01\x7f" "d");
	putc(' ', fp);
	out_json_str(fp, NULL);
	fclose(fp);
	assert_string_equal(buf, "\"a\\\"b\\\\c\\n\\t\\u0001\\u007fd\" null");
	free(buf);
	/* empty, plain, escapes first and last, UTF-8 as it is */
	buf = NULL;
	fp = open_memstream(&buf, &len);
	out_json_str(fp, "");
	out_json_str(fp, "plain-run.of chars");
	out_json_str(fp, "\"x\n");
	out_json_str(fp, "gr\xc3\xbc\xc3\x9f");
	fclose(fp);
	assert_string_equal(buf, "\"\"\"plain-run.of chars\"\"\\\"x\\n\""
	    "\"gr\xc3\xbc\xc3\x9f\"");
	free(buf);
}

static void
test_close(void **state)
{
	FILE *fp = fopen("/dev/full", "w");

	assert_non_null(fp);
	fputs("x", fp);
	assert_int_equal(out_close(fp), -1);
	assert_non_null(fp = fopen("/dev/null", "w"));
	fputs("x", fp);
	assert_int_equal(out_close(fp), 0);
}

static FILE *usage_fp;
static int usage_ex;

/* Records the call; the programs' usage() exits instead. */
static void
usage(FILE *fp, int ex)
{
	usage_fp = fp;
	usage_ex = ex;
}

/* -q and -v undo each other; -h and anything else go to usage(). */
static void
test_flag(void **state)
{
	int quiet = 0, verbose = 1;

	out_flag('q', "prog", usage, &quiet, &verbose);
	assert_int_equal(quiet, 1);
	assert_int_equal(verbose, 0);
	out_flag('v', "prog", usage, &quiet, &verbose);
	assert_int_equal(quiet, 0);
	assert_int_equal(verbose, 1);
	assert_null(usage_fp);
	out_flag('h', "prog", usage, &quiet, &verbose);
	assert_ptr_equal(usage_fp, stdout);
	assert_int_equal(usage_ex, 0);
	out_flag('?', "prog", usage, &quiet, &verbose);
	assert_ptr_equal(usage_fp, stderr);
	assert_int_equal(usage_ex, 64);
	usage_fp = NULL;
	out_flag('F', "prog", usage, &quiet, &verbose);
	assert_ptr_equal(usage_fp, stderr);
	assert_int_equal(quiet, 0);
	assert_int_equal(verbose, 1);
	/* A program without -q and -v: a usage error. */
	usage_fp = NULL;
	out_flag('q', "prog", usage, NULL, NULL);
	assert_ptr_equal(usage_fp, stderr);
	assert_int_equal(usage_ex, 64);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_close),
		cmocka_unit_test(test_flag),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
