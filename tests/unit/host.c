/* SPDX-License-Identifier: AGPL-3.0-only */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "host.h"
#include "tunnel.h"

static const struct { const char *in, *out; } good[] = {
	{ "labbox", "labbox" },
	{ "LabBox", "labbox" },
	{ "labbox.", "labbox" },
	{ "gw.Example.ORG.", "gw.example.org" },
	{ "host_1-a.example", "host_1-a.example" },
	{ "127.0.0.1", "127.0.0.1" },
	{ "10.1.2.3", "10.1.2.3" },
	{ "::1", "::1" },
	{ "FE80:0:0::1", "fe80::1" },
	{ "2001:db8:0:0:0:0:0:1", "2001:db8::1" },
	{ "::ffff:127.0.0.1", "127.0.0.1" },
	{ "::FFFF:7f00:1", "127.0.0.1" },
	{ "1a.example", "1a.example" },
};

static const char *bad[] = {
	"", ".", "..", "a..b", ".a", "-oProxyCommand=x", "a;id", "$(id)",
	"`id`", "a b", "a\nb", "a\tb", "user@host", "a/b", "a,b", "a|b",
	"a'b", "a\"b", "a&b", "a>b", "h\xc3\xa9t\xc3\xa9", "127.1", "127.0.1",
	"2130706433", "0x7f.1", "0x7f000001", "017.0.0.1", "127.0.0.01",
	"256.1.1.1", "1.2.3.4.5", "1.2.3", "[::1]", "::1%eth0", ":::",
	"fe80::1::2", "a.123", "%h",
};

static void
test_good(void **state)
{
	char out[HOST_MAX + 1];
	struct sxerr e;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (host_canon(good[i].in, out, sizeof(out), &e) != 0)
			fail_msg("\"%s\" refused: %s", good[i].in, e.msg);
		assert_string_equal(out, good[i].out);
	}
}

static void
test_bad(void **state)
{
	char out[HOST_MAX + 1];
	struct sxerr e;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (host_canon(bad[i], out, sizeof(out), &e) != -1)
			fail_msg("\"%s\" accepted as \"%s\"", bad[i], out);
		assert_int_equal(e.ex, EX_DATAERR);
		/* the message never carries a raw control character */
		for (const char *m = e.msg; *m; m++)
			assert_true((unsigned char)*m >= 0x20);
	}
}

static void
test_lengths(void **state)
{
	char in[10001], out[HOST_MAX + 1];
	struct sxerr e;

	memset(in, 'a', sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	assert_int_equal(host_canon(in, out, sizeof(out), &e), -1);
	/* 63-character label fine, 64 not */
	memset(in, 'a', 63);
	in[63] = '\0';
	assert_int_equal(host_canon(in, out, sizeof(out), &e), 0);
	in[63] = 'a';
	in[64] = '\0';
	assert_int_equal(host_canon(in, out, sizeof(out), &e), -1);
}

static void
test_names(void **state)
{
	static const char *ok[] = { "labbox", "a", "Lab.box_1-2", "0" };
	static const char *no[] = { "", "-a", ".a", "_a", "a b", "a/b",
		"a;b", "a\nb", "$(id)", "a'b",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" };
	struct sxerr e;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_int_equal(tunnel_valid_name(ok[i], &e), 0);
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		if (tunnel_valid_name(no[i], &e) != -1)
			fail_msg("name \"%s\" accepted", no[i]);
		assert_int_equal(e.ex, EX_DATAERR);
	}
}

static void
test_ports(void **state)
{
	static const char *no[] = { "", "0", "65536", "-1", "+22", " 22",
		"22 ", "0x16", "22a", "999999", "2\n2" };
	struct sxerr e;
	size_t i;
	int p;

	assert_int_equal(host_parse_port("22", &p, &e), 0);
	assert_int_equal(p, 22);
	assert_int_equal(host_parse_port("65535", &p, &e), 0);
	assert_int_equal(host_parse_port("1", &p, &e), 0);
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (host_parse_port(no[i], &p, &e) != -1)
			fail_msg("port \"%s\" accepted", no[i]);
}

static void
test_bastions(void **state)
{
	static const struct { const char *in, *user, *host; int port;
	    const char *fmt; } ok[] = {
		{ "gw", "", "gw", 0, "gw" },
		{ "user@gw.example.org", "user", "gw.example.org", 0,
		    "user@gw.example.org" },
		{ "user@gw:2200", "user", "gw", 2200, "user@gw:2200" },
		{ "[::1]:2222", "", "::1", 2222, "[::1]:2222" },
		{ "u@[::1]", "u", "::1", 0, "u@[::1]" },
		{ "127.0.0.1:22", "", "127.0.0.1", 22, "127.0.0.1:22" },
	};
	static const char *no[] = { "", "@gw", "-u@gw", "u@", "u@gw:", "u@gw:0",
		"u@gw:99999", "::1", "u@[::1", "u@[gw]", "u@[::1]x", "u v@gw",
		"u@gw;id", "u@$(id)", "u@gw\n", "a@b@c", "u@-gw", "u@gw:22:33" };
	struct bastion b;
	struct sxerr e;
	char buf[300];
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (host_parse_bastion(ok[i].in, &b, &e) != 0)
			fail_msg("bastion \"%s\" refused: %s", ok[i].in, e.msg);
		assert_string_equal(b.user, ok[i].user);
		assert_string_equal(b.host, ok[i].host);
		assert_int_equal(b.port, ok[i].port);
		assert_int_equal(host_fmt_bastion(&b, buf, sizeof(buf)), 0);
		assert_string_equal(buf, ok[i].fmt);
	}
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		if (host_parse_bastion(no[i], &b, &e) != -1)
			fail_msg("bastion \"%s\" accepted", no[i]);
		assert_int_equal(e.ex, EX_DATAERR);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_bastions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
