/* SPDX-License-Identifier: AGPL-3.0-only */
/*
 * legacy.c: scitex-ssh 1.0's units (the fixture is that tool's exact
 * output, and its older form without keepalives) read back into bastion,
 * key, port, forwards and options; what the tool never wrote is refused.
 */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "legacy.h"

/* The source tree, wherever the test runs from (make passes it). */
#ifndef TOP
#define TOP "."
#endif
#define FIXTURE TOP "/tests/lib/autossh-tunnel-2222.service"

#define OLD	"[Unit]\nDescription=AutoSSH tunnel service\n\n[Service]\n" \
		"User=alice\nEnvironment=\"AUTOSSH_GATETIME=0\"\n"

static void
t_port(void **st)
{
	assert_int_equal(legacy_port("autossh-tunnel-2222.service"), 2222);
	assert_int_equal(legacy_port("autossh-tunnel-1.service"), 1);
	assert_int_equal(legacy_port("autossh-tunnel-65535.service"), 65535);
	assert_int_equal(legacy_port("autossh-tunnel-65536.service"), -1);
	assert_int_equal(legacy_port("autossh-tunnel-0.service"), -1);
	assert_int_equal(legacy_port("autossh-tunnel-022.service"), -1);
	assert_int_equal(legacy_port("autossh-tunnel-.service"), -1);
	assert_int_equal(legacy_port("autossh-tunnel-22.service.d"), -1);
	assert_int_equal(legacy_port("autossh-tunnel-22x.service"), -1);
	assert_int_equal(legacy_port("ssh-tunnel@x.service"), -1);
}

static void
t_fixture(void **st)
{
	struct legacy l;
	struct sxerr e;

	assert_int_equal(legacy_read(FIXTURE, &l, &e), 0);
	assert_int_equal(l.port, 2222);
	assert_string_equal(l.runas, "ywatanabe");
	assert_string_equal(l.bastion, "ywatanabe@bastion.example.org");
	assert_string_equal(l.key, "/home/ywatanabe/.ssh/id_rsa");
	assert_int_equal(l.nfwd, 1);
	assert_string_equal(l.fwd[0], "R 2222:localhost:22");
	/* every -o of that unit is one the supervisor sets itself */
	assert_int_equal(l.nopt, 0);
	assert_string_equal(l.problem, "");
}

static void
t_older(void **st)
{
	struct legacy l;
	struct sxerr e;

	memset(&l, 0, sizeof(l));
	assert_int_equal(legacy_parse(OLD "ExecStart=/usr/bin/autossh -M 0 -N "
	    "-o \"PubkeyAuthentication=yes\" -o \"PasswordAuthentication=no\" "
	    "-i /home/alice/.ssh/id_ed25519 -R 5098:localhost:22 "
	    "alice@gw.example.org\nRestartSec=3\nRestart=always\n\n[Install]\n"
	    "WantedBy=multi-user.target\n", &l, &e), 0);
	assert_string_equal(l.runas, "alice");
	assert_string_equal(l.bastion, "alice@gw.example.org");
	assert_string_equal(l.key, "/home/alice/.ssh/id_ed25519");
	assert_string_equal(l.fwd[0], "R 5098:localhost:22");
}

static void
t_variants(void **st)
{
	struct legacy l;
	struct sxerr e;

	memset(&l, 0, sizeof(l));
	assert_int_equal(legacy_parse(OLD "ExecStart=-/usr/bin/autossh -M0 -NT "
	    "-oUserKnownHostsFile=/k -o 'ServerAliveInterval 5' -4 \\\n"
	    "  -p 2200 -R 2222:localhost:22 -L 8080:web:80 "
	    "-J jump.example.org gw.example.org\n", &l, &e), 0);
	assert_string_equal(l.bastion, "gw.example.org:2200");
	assert_int_equal(l.nfwd, 2);
	assert_string_equal(l.fwd[1], "L 8080:web:80");
	assert_int_equal(l.nopt, 3);
	assert_string_equal(l.opt[0], "UserKnownHostsFile=/k");
	assert_string_equal(l.opt[1], "AddressFamily=inet");
	assert_string_equal(l.opt[2], "ProxyJump=jump.example.org");
	assert_string_equal(l.key, "");
	/* the last ExecStart= wins, as in systemd */
	assert_int_equal(legacy_parse(OLD "ExecStart=/bin/false\n"
	    "ExecStart=/usr/bin/ssh -N -R 1:h:2 b\n", &l, &e), 0);
	assert_string_equal(l.bastion, "b");
}

static void
t_refused(void **st)
{
	static const char *const bad[] = {
	    "ExecStart=/bin/sh -c 'autossh -R 1:h:2 b'\n",
	    "ExecStart=/usr/bin/autossh -N -R 1:h:2\n",
	    "ExecStart=/usr/bin/autossh -N b\n",
	    "ExecStart=/usr/bin/autossh -N -R 1:h:2 b uptime\n",
	    "ExecStart=/usr/bin/autossh -N -R 1:h:2 -F /x b\n",
	    "ExecStart=/usr/bin/autossh -N -D 1080 -R 1:h:2 b\n",
	    "ExecStart=/usr/bin/autossh -N -R %i:h:2 b\n",
	    "ExecStart=/usr/bin/autossh -N -R 1:h:2 $BASTION\n",
	    "ExecStart=/usr/bin/autossh -N -R \"1:h:2 b\n",
	    "ExecStart=/usr/bin/autossh -N -R 1:h:2 -p 0 b\n",
	    "ExecStart=/usr/bin/autossh -N -R 1:h:2 -p 22x b\n",
	    "ExecStart=/usr/bin/autossh -N -R nocolon b\n",
	    "ExecStart=/usr/bin/autossh -N -R 1:h:2 -i\n",
	    "ExecStart=/usr/bin/autossh -N -R '1:h:2 ' b\n",
	    "ExecStart=\n",
	    "ExecStart=\t \\\n  \n",
	    "",
	    NULL };
	char text[1024];
	struct legacy l;
	struct sxerr e;
	size_t i;

	for (i = 0; bad[i] != NULL; i++) {
		snprintf(text, sizeof(text), "%s%s", OLD, bad[i]);
		e.ex = 0;
		if (legacy_parse(text, &l, &e) != -1)
			fail_msg("accepted: %s", bad[i]);
		assert_int_equal(e.ex, EX_DATAERR);
	}
	/* ExecStart outside [Service] does not count */
	assert_int_equal(legacy_parse("[Unit]\nExecStart=/usr/bin/autossh "
	    "-R 1:h:2 b\n", &l, &e), -1);
	assert_int_equal(legacy_parse("[Service]\nUser=a b\nExecStart=/usr/bin/"
	    "autossh -R 1:h:2 b\n", &l, &e), -1);
}

static void
t_list(void **st)
{
	char dir[] = "/tmp/legacy-test.XXXXXX", path[256];
	struct legacy *v = NULL, one;
	struct sxerr e;
	size_t n = 0;
	FILE *f;
	static const char *const names[] = { "autossh-tunnel-3333.service",
	    "autossh-tunnel-2222.service", "autossh-tunnel-x.service",
	    "other.service", NULL };
	size_t i;

	assert_non_null(mkdtemp(dir));
	for (i = 0; names[i] != NULL; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		assert_non_null(f = fopen(path, "w"));
		fputs(i == 0 ? "[Service]\nExecStart=/bin/true\n" : OLD
		    "ExecStart=/usr/bin/autossh -M 0 -N -R 2222:localhost:22 "
		    "-i /k u@b\n", f);
		fclose(f);
	}
	assert_int_equal(legacy_list_dir(dir, 1, &v, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].port, 2222);
	assert_string_equal(v[0].problem, "");
	assert_int_equal(v[0].user_unit, 1);
	assert_int_equal(v[1].port, 3333);
	assert_non_null(strstr(v[1].problem, "not autossh"));
	free(v);

	/* legacy_find looks in $XDG_CONFIG_HOME/systemd/user */
	snprintf(path, sizeof(path), "%s/cfg", dir);
	setenv("XDG_CONFIG_HOME", path, 1);
	assert_int_equal(legacy_find(2222, &one, &e), -1);
	assert_int_equal(e.ex, EX_UNAVAILABLE);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/cfg/systemd", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/cfg/systemd/user", dir);
	assert_int_equal(symlink(dir, path), 0);
	assert_int_equal(legacy_find(2222, &one, &e), 0);
	assert_string_equal(one.bastion, "u@b");
	assert_int_equal(one.user_unit, 1);

	unlink(path);
	snprintf(path, sizeof(path), "%s/cfg/systemd", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/cfg", dir);
	rmdir(path);
	for (i = 0; names[i] != NULL; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

static void
t_tunnel(void **st)
{
	static struct tunnel t;
	struct legacy l;
	struct sxerr e;
	char buf[4096];

	assert_int_equal(legacy_read(FIXTURE, &l, &e), 0);
	assert_int_equal(legacy_tunnel(&l, "labbox", &t, &e), 0);
	assert_string_equal(t.name, "labbox");
	assert_int_equal(t.nbastion, 1);
	assert_string_equal(t.bastion[0].user, "ywatanabe");
	assert_string_equal(t.bastion[0].host, "bastion.example.org");
	assert_string_equal(t.key, "/home/ywatanabe/.ssh/id_rsa");
	assert_int_equal(t.nfwd, 1);
	assert_int_equal(t.fwd[0].dir, 'R');
	assert_int_equal(t.fwd[0].port, 2222);
	assert_int_equal(t.fwd[0].hostport, 22);
	assert_int_equal(t.alive_interval, TUN_ALIVE_INTERVAL);
	assert_int_equal(tunnel_yaml(&t, buf, sizeof(buf), &e), 0);
	assert_non_null(strstr(buf, "R 2222:localhost:22"));

	/* a bastion ssh would take but we refuse stays refused */
	strlcpy(l.bastion, "u@-oProxyCommand=x", sizeof(l.bastion));
	assert_int_equal(legacy_tunnel(&l, "labbox", &t, &e), -1);
	strlcpy(l.bastion, "u@h", sizeof(l.bastion));
	strlcpy(l.problem, "x: bad", sizeof(l.problem));
	assert_int_equal(legacy_tunnel(&l, "labbox", &t, &e), -1);
	assert_int_equal(e.ex, EX_DATAERR);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_port),
		cmocka_unit_test(t_fixture),
		cmocka_unit_test(t_older),
		cmocka_unit_test(t_variants),
		cmocka_unit_test(t_refused),
		cmocka_unit_test(t_list),
		cmocka_unit_test(t_tunnel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
