/* SPDX-License-Identifier: AGPL-3.0-only */
/* Arrays grown by doubling: room from 16, none made while there is some,
 * the items kept across every move. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "vec.h"

static void
t_room(void **state)
{
	long *v = NULL, *was;
	size_t room = 0, n;

	for (n = 0; n < 1000; n++) {
		assert_int_equal(vec_room(&v, &room, n, sizeof(*v)), 0);
		assert_true(n < room);
		v[n] = (long)n * 7;
	}
	assert_int_equal(room, 1024);
	for (n = 0; n < 1000; n++)
		assert_int_equal(v[n], (long)n * 7);
	/* room left: the same array */
	was = v;
	assert_int_equal(vec_room(&v, &room, 1000, sizeof(*v)), 0);
	assert_ptr_equal(v, was);
	assert_int_equal(room, 1024);
	free(v);

	v = NULL;
	room = 0;
	assert_int_equal(vec_room(&v, &room, 0, sizeof(*v)), 0);
	assert_int_equal(room, 16);
	free(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_room),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
