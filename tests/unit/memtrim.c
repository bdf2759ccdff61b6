/* SPDX-License-Identifier: AGPL-3.0-only */
/*
 * memtrim.c: mem_trim() hands back the stack a deep call touched (the
 * main thread's, as a supervisor's) and leaves the frames in use alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "memtrim.h"

/* Private_Dirty of the [stack] mapping, KiB. */
static long
stack_dirty(void)
{
	char line[512];
	FILE *f;
	int in = 0;
	long kb = -1;

	assert_non_null(f = fopen("/proc/self/smaps", "r"));
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strstr(line, " [stack]") != NULL)
			in = 1;
		else if (in && sscanf(line, "Private_Dirty: %ld", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

/* Somewhere the compiler cannot see what is done with a buffer. */
static void (*volatile sink)(char *);

static void
keep(char *p)
{
	(void)p;
}

static void
deep(void)
{
	char b[256 * 1024];

	memset(b, 1, sizeof(b));
	sink(b);
}

static void
t_stack(void **st)
{
	char live[8192];
	long before, touched, after;

	sink = keep;
	memset(live, 7, sizeof(live));
	sink(live);
	before = stack_dirty();
	deep();
	touched = stack_dirty();
	mem_trim();
	after = stack_dirty();
	assert_true(touched >= before + 200);
	assert_true(after <= before + 16);
	/* this frame's data survived */
	for (size_t i = 0; i < sizeof(live); i++)
		assert_int_equal(live[i], 7);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_stack),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
