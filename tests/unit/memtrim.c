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
#include <sys/mman.h>
#include <unistd.h>

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

/* Pages of [p, p + n) resident (mincore). */
static int
resident(const char *p, size_t n)
{
	unsigned char v[16];
	size_t i, pg = (size_t)sysconf(_SC_PAGESIZE);
	int r = 0;

	assert_true(n / pg <= sizeof(v));
	assert_int_equal(mincore((void *)p, n, v), 0);
	for (i = 0; i < n / pg; i++)
		r += v[i] & 1;
	return r;
}

static void
t_sparse(void **st)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), n = 5 * pg;
	char *src, *dst;

	assert_non_null(src = calloc(1, n));
	assert_non_null(dst = mem_pages(n));
	src[10] = 1;
	src[2 * pg + 5] = 2;
	mem_copy_sparse(dst, src, n);
	/* pages 1, 3 and 4 were never touched, not even read (which
	 * comparing below does) */
	assert_int_equal(resident(dst, n), 2);
	assert_memory_equal(dst, src, n);
	/* a copy over it: only what differs, zero pages now too */
	memset(src, 0, n);
	src[4 * pg] = 3;
	mem_copy_sparse(dst, src, n);
	assert_memory_equal(dst, src, n);
	/* an unaligned length and start */
	mem_copy_sparse(dst + 100, src + 100, n - 200);
	assert_memory_equal(dst, src, n);
	mem_pages_free(dst, n);
	free(src);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_stack),
		cmocka_unit_test(t_sparse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
