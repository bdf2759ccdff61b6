/* SPDX-License-Identifier: AGPL-3.0-only */
/* Printable-text checks, and how a refused value is shown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "text.h"

static void
t_checks(void **st)
{
	char c[2] = { 0, 0 };
	int i;

	assert_true(text_printable(""));
	assert_true(text_printable("a b~"));
	assert_false(text_printable("a\tb"));
	assert_false(text_printable("\x7f"));
	assert_false(text_printable("caf\xc3\xa9"));
	assert_true(text_word("a-b/c=d"));
	assert_false(text_word("a b"));
	/* every byte: printable is 0x20-0x7e, a word 0x21-0x7e */
	for (i = 1; i < 256; i++) {
		c[0] = (char)i;
		assert_int_equal(text_printable(c), i >= 0x20 && i <= 0x7e);
		assert_int_equal(text_word(c), i >= 0x21 && i <= 0x7e);
	}
}

static void
t_vis(void **st)
{
	char out[32];

	text_vis("ok", out, sizeof(out));
	assert_string_equal(out, "ok");
	text_vis("a\nb\\\xff", out, sizeof(out));
	assert_string_equal(out, "a\\x0ab\\x5c\\xff");
	text_vis("0123456789012345678901234567890123456789", out, 16);
	assert_string_equal(out, "01234567890...");
	assert_true(strlen(out) < 16);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_checks),
		cmocka_unit_test(t_vis),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
