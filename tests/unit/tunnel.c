/* SPDX-License-Identifier: AGPL-3.0-only */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "tunnel.h"

static const struct { const char *in, *out, *argv; } fwd_good[] = {
	{ "R 2222:localhost:22", "R 2222:localhost:22", "2222:localhost:22" },
	{ "L 8080:10.0.0.5:80", "L 8080:10.0.0.5:80", "8080:10.0.0.5:80" },
	{ "R  127.0.0.1:2222:LocalHost:22", "R 127.0.0.1:2222:localhost:22",
	    "127.0.0.1:2222:localhost:22" },
	{ "R *:2222:localhost:22", "R *:2222:localhost:22",
	    "*:2222:localhost:22" },
	{ "R [::1]:2222:[::1]:22", "R [::1]:2222:[::1]:22",
	    "[::1]:2222:[::1]:22" },
	{ "L 1:h:65535", "L 1:h:65535", "1:h:65535" },
};

static const char *fwd_bad[] = {
	"", "R", "R ", "X 1:h:2", "r 1:h:2", "R1:h:2", "R 0:h:2", "R 1:h:0",
	"R 65536:h:2", "R 1:h", "R 1:h:2:3:4", "R a:h:2", "R 1:h;id:2",
	"R 1:$(id):2", "R 1:h:2\n", "R 1:h\n:2", "R 1:[h]:2", "R 1:[::1:2",
	"R 1:::1:2", "R :1:h:2", "R 1:h :2", "R 1: h:2", "R *:1:*:2",
	"R 1:-oProxyCommand=x:2", "R 1:h:+2", "R 1:h:0x16",
};

static void
test_forwards(void **state)
{
	struct forward f;
	struct sxerr e;
	char buf[600];
	size_t i;

	for (i = 0; i < sizeof(fwd_good) / sizeof(fwd_good[0]); i++) {
		if (tunnel_parse_forward(fwd_good[i].in, &f, &e) != 0)
			fail_msg("\"%s\" refused: %s", fwd_good[i].in, e.msg);
		assert_int_equal(tunnel_fmt_forward(&f, 0, buf, sizeof(buf)), 0);
		assert_string_equal(buf, fwd_good[i].out);
		assert_int_equal(tunnel_fmt_forward(&f, 1, buf, sizeof(buf)), 0);
		assert_string_equal(buf, fwd_good[i].argv);
	}
	for (i = 0; i < sizeof(fwd_bad) / sizeof(fwd_bad[0]); i++) {
		if (tunnel_parse_forward(fwd_bad[i], &f, &e) != -1)
			fail_msg("\"%s\" accepted", fwd_bad[i]);
		assert_int_equal(e.ex, EX_DATAERR);
	}
}

static void
test_options(void **state)
{
	static const char *ok[] = { "UserKnownHostsFile=~/.ssh/kh",
	    "serveraliveinterval=5", "ProxyJump=u@j:22", "Port=2200" };
	static const char *no[] = { "ProxyCommand=id", "LocalCommand=id",
	    "PermitLocalCommand=yes", "KnownHostsCommand=x", "Match=all",
	    "PKCS11Provider=/x.so", "SecurityKeyProvider=/x.so",
	    "ControlMaster=auto", "ControlPath=/tmp/x", "LogLevel=QUIET",
	    "ExitOnForwardFailure=no", "RemoteForward=1 h:2", "Include=/x",
	    "User", "=x", "User=", "User=a b", "User=a\"b", "User=a\nb",
	    "User=a\\b", "User=`id`", "User=a'b" };
	struct sxerr e;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (tunnel_valid_option(ok[i], &e) != 0)
			fail_msg("\"%s\" refused: %s", ok[i], e.msg);
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (tunnel_valid_option(no[i], &e) != -1)
			fail_msg("\"%s\" accepted", no[i]);
}

static int
from_yaml(const char *y, struct tunnel *t, struct sxerr *e)
{
	struct cnode *root;
	int rc;

	if (config_parse("t.yaml", y, strlen(y), &root, e) == -1)
		return -1;
	rc = tunnel_from_node("labbox", "t.yaml", root, t, e);
	cnode_free(root);
	return rc;
}

/* Packed options: 32 fit, their bytes in all are bounded, order kept. */
static void
test_options_packed(void **state)
{
	static struct tunnel t;
	struct sxerr e;
	char o[TUN_OPT_LEN];
	size_t i;

	tunnel_init(&t, "x");
	for (i = 0; i < TUN_OPT_MAX; i++) {
		snprintf(o, sizeof(o), "ConnectionAttempts=%zu", i + 1);
		assert_int_equal(tunnel_add_option(&t, o, &e), 0);
	}
	assert_int_equal(t.nopt, TUN_OPT_MAX);
	assert_string_equal(tunnel_option(&t, 0), "ConnectionAttempts=1");
	assert_string_equal(tunnel_option(&t, 31), "ConnectionAttempts=32");
	assert_int_equal(tunnel_add_option(&t, "Port=22", &e), -1);
	assert_string_equal(e.msg, "more than 32 ssh options");

	/* Long ones: the buffer, not the count, ends them; nothing torn. */
	tunnel_init(&t, "x");
	memset(o, 0, sizeof(o));
	memcpy(o, "UserKnownHostsFile=/", 20);
	memset(o + 20, 'a', 393);
	for (i = 0; tunnel_add_option(&t, o, &e) == 0; i++)
		;
	assert_int_equal(i, TUN_OPT_BUF / 414);
	assert_int_equal(t.nopt, i);
	assert_string_equal(e.msg, "ssh options longer than 4096 bytes in all");
	assert_string_equal(tunnel_option(&t, i - 1), o);
}

static void
test_yaml_roundtrip(void **state)
{
	static char buf[65536], again[65536];
	struct tunnel t, u;
	struct sxerr e;

	if (from_yaml("bastion: [u@gw.example.org, \"[::1]:2200\"]\n"
	    "key: ~/.ssh/id_ed25519\n"
	    "forwards:\n  - R 2222:localhost:22\n  - L 8080:h:80\n"
	    "server_alive: [5, 3]\nretry_max: 10\n"
	    "ssh_options: [UserKnownHostsFile=/k]\n", &t, &e) != 0)
		fail_msg("%s", e.msg);
	assert_int_equal(t.nbastion, 2);
	assert_int_equal(t.bastion[1].port, 2200);
	assert_int_equal(t.nfwd, 2);
	assert_int_equal(t.alive_interval, 5);
	assert_int_equal(t.alive_count, 3);
	assert_int_equal(t.retry_max, 10);
	assert_int_equal(tunnel_yaml(&t, buf, sizeof(buf), &e), 0);
	if (from_yaml(buf, &u, &e) != 0)
		fail_msg("%s\n%s", e.msg, buf);
	assert_int_equal(tunnel_yaml(&u, again, sizeof(again), &e), 0);
	assert_string_equal(buf, again);
}

static void
test_yaml_errors(void **state)
{
	static const struct { const char *y, *msg; } bad[] = {
		{ "bastion: h\n", "t.yaml:1:1: tunnel labbox: no forwards" },
		{ "forwards: [R 1:h:2]\n", "t.yaml:1:1: tunnel labbox: no "
		    "bastion" },
		{ "bastion: h\nforwards: [R 1:h:2]\nx: 1\n",
		    "t.yaml:3:1: x: unknown key in tunnel labbox" },
		{ "bastion: h\nforwards: [R 1:h:0]\n", "t.yaml:2:12: " },
		{ "bastion: \"a;b\"\nforwards: [R 1:h:2]\n", "t.yaml:1:10: " },
		{ "bastion: h\nforwards: [R 1:h:2]\nretry_max: 0\n",
		    "t.yaml:3:12: retry_max" },
		{ "bastion: h\nforwards: [R 1:h:2]\nserver_alive: 5\n",
		    "t.yaml:3:15: server_alive" },
		{ "bastion: h\nforwards: [R 1:h:2]\nkey: rel/key\n",
		    "t.yaml:3:6: " },
		{ "bastion: h\nforwards: {a: b}\n", "t.yaml:2:11: forwards" },
		{ "- a\n", "t.yaml:1:1: tunnel labbox: want a map" },
	};
	struct tunnel t;
	struct sxerr e;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (from_yaml(bad[i].y, &t, &e) != -1)
			fail_msg("accepted: %s", bad[i].y);
		assert_int_equal(e.ex, EX_CONFIG);
		if (strncmp(e.msg, bad[i].msg, strlen(bad[i].msg)) != 0)
			fail_msg("%s: got \"%s\"", bad[i].y, e.msg);
	}
}

static void
test_argv(void **state)
{
	static struct sshargv a;
	static char want[4096], got[4096];
	struct tunnel t;
	struct sxerr e;
	size_t i;

	setenv("HOME", "/home/u", 1);
	if (from_yaml("bastion: [u@gw:2200, gw2]\nkey: ~/.ssh/id\n"
	    "forwards: [R 2222:localhost:22]\n"
	    "ssh_options: [StrictHostKeyChecking=yes]\n", &t, &e) != 0)
		fail_msg("%s", e.msg);
	assert_int_equal(tunnel_argv(&t, 0, "ssh", 0, &a, &e), 0);
	got[0] = '\0';
	for (i = 0; i < a.argc; i++) {
		strlcat(got, i ? " " : "", sizeof(got));
		strlcat(got, a.argv[i], sizeof(got));
	}
	assert_null(a.argv[a.argc]);
	snprintf(want, sizeof(want), "ssh -N -T -v -o ExitOnForwardFailure=yes "
	    "-o BatchMode=yes -o ControlMaster=no -o ControlPath=none "
	    "-o ForkAfterAuthentication=no -o PermitLocalCommand=no "
	    "-o StrictHostKeyChecking=yes -o ConnectTimeout=%d -i /home/u/.ssh/id -o IdentitiesOnly=yes "
	    "-o ServerAliveInterval=5 -o ServerAliveCountMax=3 "
	    "-R 2222:localhost:22 -l u -p 2200 -- gw", TUN_CONNECT_TIMEOUT);
	assert_string_equal(got, want);
	assert_int_equal(tunnel_argv(&t, 1, "ssh", 0, &a, &e), 0);
	assert_string_equal(a.argv[a.argc - 1], "gw2");
	assert_string_equal(a.argv[a.argc - 2], "--");
	assert_int_equal(tunnel_argv(&t, 2, "ssh", 0, &a, &e), -1);
	/* A patient connect timeout where the supervisor asks for one. */
	assert_int_equal(tunnel_argv(&t, 0, "ssh", 20, &a, &e), 0);
	for (i = 0; i < a.argc; i++)
		if (strcmp(a.argv[i], "ConnectTimeout=20") == 0)
			break;
	assert_true(i < a.argc);
}

static void
test_client_block(void **state)
{
	char buf[2048];
	struct tunnel t;
	struct sxerr e;

	if (from_yaml("bastion: u@gw.example.org\n"
	    "forwards: [L 1:h:2, R 2222:localhost:22]\n", &t, &e) != 0)
		fail_msg("%s", e.msg);
	assert_int_equal(tunnel_client_block(&t, 0, buf, sizeof(buf), &e), 0);
	assert_string_equal(buf, "Host labbox\n    HostName localhost\n"
	    "    Port 2222\n    ProxyJump u@gw.example.org\n"
	    "    HostKeyAlias labbox\n");
}

static void
test_authkeys(void **state)
{
	char dir[] = "/tmp/tunnel-unit.XXXXXX", path[256], buf[4096];
	struct tunnel t;
	struct sxerr e;
	FILE *fp;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/id.pub", dir);
	assert_non_null(fp = fopen(path, "w"));
	fputs("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBx+/= me@host\n", fp);
	fclose(fp);
	tunnel_init(&t, "labbox");
	snprintf(t.key, sizeof(t.key), "%s/id", dir);
	assert_int_equal(tunnel_parse_forward("R 2222:localhost:22", &t.fwd[0],
	    &e), 0);
	assert_int_equal(tunnel_parse_forward("R 127.0.0.1:2223:h:22",
	    &t.fwd[1], &e), 0);
	t.nfwd = 2;
	assert_int_equal(tunnel_authkeys(&t, buf, sizeof(buf), &e), 0);
	assert_string_equal(buf, "restrict,port-forwarding,"
	    "permitlisten=\"localhost:2222\",permitlisten=\"127.0.0.1:2223\","
	    "permitopen=\"localhost:2222\",permitopen=\"127.0.0.1:2223\","
	    "command=\"/bin/false\" ssh-ed25519 "
	    "AAAAC3NzaC1lZDI1NTE5AAAAIBx+/= labbox\n");
	assert_non_null(fp = fopen(path, "w"));
	fputs("ssh-ed25519 AAAA\"x\n", fp);
	fclose(fp);
	assert_int_equal(tunnel_authkeys(&t, buf, sizeof(buf), &e), -1);
	unlink(path);
	rmdir(dir);
}

static void
test_sshd_match(void **state)
{
	char buf[2048];
	struct tunnel t;
	struct sxerr e;

	tunnel_init(&t, "labbox");
	assert_int_equal(host_parse_bastion("tun@gw1", &t.bastion[0], &e), 0);
	assert_int_equal(host_parse_bastion("tun@gw2", &t.bastion[1], &e), 0);
	assert_int_equal(host_parse_bastion("tu@gw3", &t.bastion[2], &e), 0);
	t.nbastion = 3;
	assert_int_equal(tunnel_parse_forward("R 2222:localhost:22", &t.fwd[0],
	    &e), 0);
	t.nfwd = 1;
	assert_int_equal(tunnel_sshd_match(&t, buf, sizeof(buf), &e), 0);
	assert_string_equal(buf, "Match User tun,tu\n"
	    "\tAllowStreamLocalForwarding no\n\tAllowTcpForwarding yes\n"
	    "\tGatewayPorts no\n\tAllowAgentForwarding no\n"
	    "\tX11Forwarding no\n\tPermitTunnel no\n\tPermitTTY no\n"
	    "\tPermitUserRC no\n\tForceCommand /bin/false\n");
	/* a forward listening beyond loopback needs the client's bind */
	assert_int_equal(tunnel_parse_forward("R *:2223:localhost:22",
	    &t.fwd[1], &e), 0);
	t.nfwd = 2;
	assert_int_equal(tunnel_sshd_match(&t, buf, sizeof(buf), &e), 0);
	assert_non_null(strstr(buf, "\tGatewayPorts clientspecified\n"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forwards),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_options_packed),
		cmocka_unit_test(test_yaml_roundtrip),
		cmocka_unit_test(test_yaml_errors),
		cmocka_unit_test(test_argv),
		cmocka_unit_test(test_client_block),
		cmocka_unit_test(test_authkeys),
		cmocka_unit_test(test_sshd_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
