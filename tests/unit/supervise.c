/* SPDX-License-Identifier: AGPL-3.0-only */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "supervise.h"

/* Lines as OpenSSH 9 prints them, and the reason each must give. */
static const struct { const char *line, *reason; } lines[] = {
	{ "ssh: connect to host 127.0.0.1 port 1: Connection refused",
	    "refused" },
	{ "ssh: connect to host 10.9.9.9 port 22: Connection timed out",
	    "timeout" },
	{ "Timeout, server 127.0.0.1 not responding.", "timeout" },
	{ "ssh: connect to host h port 22: No route to host", "timeout" },
	{ "ssh: Could not resolve hostname nx.invalid: Name or service not "
	    "known", "dns" },
	{ "ssh: Could not resolve hostname h: Temporary failure in name "
	    "resolution", "dns" },
	{ "root@127.0.0.1: Permission denied (publickey).", "auth" },
	{ "Host key verification failed.", "hostkey" },
	{ "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @",
	    "hostkey" },
	{ "Error: remote port forwarding failed for listen port 2222",
	    "port-busy" },
	{ "bind [127.0.0.1]:8080: Address already in use", "port-busy" },
	{ "debug1: kex_exchange_identification: banner line 0: Exceeded "
	    "MaxStartups", "throttled" },
	{ "kex_exchange_identification: read: Connection reset by peer",
	    "throttled" },
	{ "kex_exchange_identification: Connection closed by remote host",
	    "throttled" },
	{ "Connection reset by 127.0.0.1 port 45650", NULL },
	{ "Connection timed out during banner exchange", "throttled" },
	{ "debug1: connect to address 127.0.0.1 port 1: Connection refused",
	    NULL },
	{ "debug1: kex_exchange_identification: banner line 0: SSH-2.0-x",
	    NULL },
	{ "debug1: remote forward success for: listen 2222, connect h:22",
	    NULL },
	{ "Connection to 127.0.0.1 closed by remote host.", NULL },
	{ "", NULL },
};

static void
test_classify(void **state)
{
	const char *r;
	size_t i;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		r = supervise_classify(lines[i].line);
		if (lines[i].reason == NULL && r != NULL)
			fail_msg("\"%s\": got %s", lines[i].line, r);
		if (lines[i].reason != NULL &&
		    (r == NULL || strcmp(r, lines[i].reason) != 0))
			fail_msg("\"%s\": got %s, want %s", lines[i].line,
			    r ? r : "none", lines[i].reason);
	}
}

/* At once, then a quarter second doubling to retry_max, jitter <= 1/4. */
static void
test_delay(void **state)
{
	unsigned f, rnd;
	long d, base;

	for (rnd = 0; rnd < 2048; rnd += 97) {
		assert_int_equal(supervise_delay_ms(0, 30, rnd), 0);
		assert_int_equal(supervise_delay_ms(1, 30, rnd), 0);
		for (f = 2; f < 200; f++) {
			base = f - 2 >= 20 ? 30000 : 250L << (f - 2);
			if (base > 30000)
				base = 30000;
			d = supervise_delay_ms(f, 30, rnd);
			if (d > base || d < base - base / 4)
				fail_msg("fails %u rnd %u: %ld (base %ld)", f,
				    rnd, d, base);
		}
	}
	assert_int_equal(supervise_delay_ms(2, 30, 0), 250);
	assert_int_equal(supervise_delay_ms(3, 30, 0), 500);
	assert_int_equal(supervise_delay_ms(8, 30, 0), 16000);
	assert_int_equal(supervise_delay_ms(9, 30, 0), 30000);
	assert_int_equal(supervise_delay_ms(4000000000u, 1, 0), 1000);
	assert_true(supervise_delay_ms(2, 30, 1023) >= 188);
}

/* Full jitter in a window of 4 s doubling up to retry_max. */
static void
test_throttle(void **state)
{
	unsigned k, rnd;
	long d, w;

	for (rnd = 0; rnd < 8192; rnd += 61) {
		assert_int_equal(supervise_throttle_ms(0, 4000, 30, rnd), 0);
		for (k = 1; k < 100; k++) {
			w = k - 1 >= 16 ? 30000 : 4000L << (k - 1);
			if (w > 30000)
				w = 30000;
			d = supervise_throttle_ms(k, 4000, 30, rnd);
			if (d < 0 || d > w)
				fail_msg("k %u rnd %u: %ld (window %ld)", k, rnd,
				    d, w);
		}
	}
	assert_int_equal(supervise_throttle_ms(1, 4000, 30, 0), 0);
	assert_int_equal(supervise_throttle_ms(1, 4000, 30, 4095), 4000);
	assert_int_equal(supervise_throttle_ms(2, 4000, 30, 4095), 8000);
	assert_int_equal(supervise_throttle_ms(4, 4000, 30, 4095), 30000);
	assert_int_equal(supervise_throttle_ms(4000000000u, 4000, 1, 4095), 1000);
	assert_int_equal(supervise_throttle_ms(1, 4000, 30, 2047), 1999);
	/* The window after timeouts starts at 2 s. */
	assert_int_equal(supervise_throttle_ms(1, 2000, 30, 4095), 2000);
	assert_int_equal(supervise_throttle_ms(4, 2000, 30, 4095), 16000);
	assert_int_equal(supervise_throttle_ms(5, 2000, 30, 4095), 30000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_delay),
		cmocka_unit_test(test_throttle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
