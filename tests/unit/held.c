/* SPDX-License-Identifier: AGPL-3.0-only */
/*
 * The flock(2) locks /proc/locks lists: which lines hold a file (not a
 * waiter's, not POSIX, OFD or lease locks), lists past one read and past
 * the first allocation, no more than a bound, and a real lock seen taken
 * and let go.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "held.h"

static char top[] = "/tmp/held-unit-XXXXXX";
static char locks[64], file[64];

static int
setup(void **state)
{
	if (mkdtemp(top) == NULL)
		return -1;
	snprintf(locks, sizeof(locks), "%s/locks", top);
	snprintf(file, sizeof(file), "%s/f.lock", top);
	return 0;
}

static int
teardown(void **state)
{
	unlink(locks);
	unlink(file);
	return rmdir(top);
}

static void
write_locks(const char *text)
{
	FILE *fp;

	assert_non_null(fp = fopen(locks, "w"));
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

static int
has(const struct held *h, unsigned maj, unsigned min, unsigned long long ino)
{
	return held_has(h, makedev(maj, min), (ino_t)ino);
}

static void
t_lines(void **state)
{
	struct held h;

	write_locks("1: FLOCK  ADVISORY  WRITE 4173 fe:00:10959658 0 EOF\n"
	    "1: -> FLOCK  ADVISORY  WRITE 4174 fe:00:777 0 EOF\n"
	    "2: POSIX  ADVISORY  WRITE 100 fe:00:888 0 EOF\n"
	    "3: OFDLCK ADVISORY  READ -1 00:2f:999 0 EOF\n"
	    "4: FLOCK  ADVISORY  READ 55 00:2f:12 0 EOF\n"
	    "5: LEASE  ACTIVE    READ 56 00:2f:13 0 EOF\n"
	    "garbage\n"
	    "6: FLOCK  ADVISORY  WRITE 1 zz:00:5 0 EOF\n"
	    "7: FLOCK  ADVISORY  WRITE 9 103:2:4242 0 EOF");	/* no \n */
	assert_int_equal(held_load(locks, &h), 0);
	assert_int_equal(h.n, 3);
	assert_true(has(&h, 0xfe, 0, 10959658));
	assert_true(has(&h, 0, 0x2f, 12));
	assert_true(has(&h, 0x103, 2, 4242));
	assert_false(has(&h, 0xfe, 0, 777));	/* a waiter */
	assert_false(has(&h, 0xfe, 0, 888));	/* POSIX */
	assert_false(has(&h, 0, 0x2f, 999));	/* OFD */
	assert_false(has(&h, 0, 0x2f, 13));	/* a lease */
	assert_false(has(&h, 0xfe, 1, 10959658));	/* another device */
	assert_false(has(&h, 0, 0, 5));
	held_free(&h);
	assert_int_equal(h.n, 0);
	assert_false(has(&h, 0xfe, 0, 10959658));
	assert_false(held_has(NULL, 0, 1));
}

/* More than one read and than the first allocation: all of them. */
static void
t_many(void **state)
{
	struct held h;
	FILE *fp;
	unsigned i;

	assert_non_null(fp = fopen(locks, "w"));
	for (i = 1; i <= 3000; i++)
		fprintf(fp, "%u: FLOCK  ADVISORY  WRITE %u 00:%02x:%u 0 EOF\n",
		    i, 1000 + i, i % 3, 7 * i);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(held_load(locks, &h), 0);
	assert_int_equal(h.n, 3000);
	for (i = 1; i <= 3000; i++) {
		assert_true(has(&h, 0, i % 3, 7 * i));
		assert_false(has(&h, 0, (i + 1) % 3, 7 * i));
	}
	assert_false(has(&h, 0, 0, 7 * 3000 + 7));
	held_free(&h);

	/* another user's hundred thousand: the first 65536, then no more */
	assert_non_null(fp = fopen(locks, "w"));
	for (i = 1; i <= 100000; i++)
		fprintf(fp, "%u: FLOCK  ADVISORY  WRITE 1 00:01:%u 0 EOF\n", i,
		    i);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(held_load(locks, &h), 0);
	assert_int_equal(h.n, 65536);
	assert_true(has(&h, 0, 1, 65536));
	assert_false(has(&h, 0, 1, 65537));
	held_free(&h);

	write_locks("");
	assert_int_equal(held_load(locks, &h), 0);
	assert_int_equal(h.n, 0);
	unlink(locks);
	assert_int_equal(held_load(locks, &h), -1);
	assert_int_equal(h.n, 0);
	assert_null(h.v);
}

/* The kernel's own list: a lock of ours in it while held, not after. */
static void
t_proc(void **state)
{
	struct stat st;
	struct held h;
	int fd;

	assert_true((fd = open(file, O_RDWR | O_CREAT, 0600)) != -1);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(held_load("/proc/locks", &h), 0);
	assert_false(held_has(&h, st.st_dev, st.st_ino));
	held_free(&h);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	assert_int_equal(held_load("/proc/locks", &h), 0);
	assert_true(held_has(&h, st.st_dev, st.st_ino));
	held_free(&h);
	assert_int_equal(close(fd), 0);
	assert_int_equal(held_load("/proc/locks", &h), 0);
	assert_false(held_has(&h, st.st_dev, st.st_ino));
	held_free(&h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_lines),
		cmocka_unit_test(t_many),
		cmocka_unit_test(t_proc),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
