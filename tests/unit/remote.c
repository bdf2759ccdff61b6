/* SPDX-License-Identifier: AGPL-3.0-only */
/*
 * lib/remote.c: the exact argv of every primitive, the refusal of hostile
 * values before anything runs, the policy gate (for the name given and the
 * name ssh reaches), and the reading of a probe's output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "policy.h"
#include "remote.h"

#include "../lib/policy_text.h"

#define BATCH	"-o|BatchMode=yes|-o|ControlMaster=no|-o|ControlPath=none|" \
		"-o|ClearAllForwardings=yes|-o|PermitLocalCommand=no"
#define WORDS(...)	((const char *const []){ __VA_ARGS__, NULL })

/* The argv of r, its words joined by '|'. */
static char *
joined(const struct remote_req *r, const char *ssh)
{
	struct remote_target t;
	struct sxerr e;
	char **v, *s = NULL;
	size_t len, i;
	FILE *fp;

	if (remote_check(r, &t, &e) != 0)
		fail_msg("remote_check: %s", e.msg);
	if (remote_argv(r, &t, ssh, &v, &e) != 0)
		fail_msg("remote_argv: %s", e.msg);
	assert_non_null(fp = open_memstream(&s, &len));
	for (i = 0; v[i] != NULL; i++)
		fprintf(fp, "%s%s", i ? "|" : "", v[i]);
	fclose(fp);
	remote_argv_free(v);
	return s;
}

static void
expect_argv(const struct remote_req *r, const char *ssh, const char *want)
{
	char *got = joined(r, ssh);

	if (strcmp(got, want) != 0)
		fail_msg("argv\n got: %s\nwant: %s", got, want);
	free(got);
}

static void
expect_refused(const struct remote_req *r, const char *what)
{
	struct remote_target t;
	struct sxerr e;

	if (remote_check(r, &t, &e) != -1)
		fail_msg("%s: accepted", what);
	assert_int_equal(e.ex, EX_DATAERR);
}

static void
test_exec_argv(void **state)
{
	struct remote_req r = { .op = REMOTE_EXEC, .host = "LabBox",
	    .command = "uname -a; echo $HOME" };

	/* A command string is one word, for the remote shell as given. */
	expect_argv(&r, "ssh", "ssh|-T|" BATCH "|--|labbox|uname -a; echo $HOME");
	r.tty = 1;
	expect_argv(&r, "/opt/ssh", "/opt/ssh|-tt|" BATCH
	    "|--|labbox|uname -a; echo $HOME");

	/* Words are quoted so that the remote shell sees exactly them. */
	r = (struct remote_req){ .op = REMOTE_EXEC, .host = "bob@gw:2222",
	    .argv = WORDS("echo", "a b", "it's", "$(id)", "", "-x", "~/f",
	    "a*b", "ok/path_1.txt"), .argc = 9 };
	expect_argv(&r, "ssh", "ssh|-T|" BATCH "|-l|bob|-p|2222|--|gw|"
	    "echo 'a b' 'it'\\''s' '$(id)' '' -x '~/f' 'a*b' ok/path_1.txt");
}

static void
test_exec_refused(void **state)
{
	static const char *const hosts[] = {
		"a;b", "-oProxyCommand=x", "$(id)", "a\nb", "`id`", "a b",
		"", "a|b", "a/b", "-l", "h:x", "u;x@h", "@h", "[::1", "127.1",
		"host\r",
	};
	struct remote_req r = { .op = REMOTE_EXEC, .command = "true" };
	char big[REMOTE_CMD_MAX + 2];
	size_t i;

	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		r.host = hosts[i];
		expect_refused(&r, hosts[i]);
	}
	r.host = NULL;
	expect_refused(&r, "no host");

	r = (struct remote_req){ .op = REMOTE_EXEC, .host = "h" };
	expect_refused(&r, "neither command nor argv");
	r.command = "true";
	r.argv = WORDS("true");
	r.argc = 1;
	expect_refused(&r, "both command and argv");
	r.command = NULL;
	r.argv = WORDS("");
	expect_refused(&r, "empty argv[0]");
	r.argv = WORDS("echo", "a\nb");
	r.argc = 2;
	expect_refused(&r, "newline in a word");
	r.argv = WORDS("echo", "\x1b[2J");
	expect_refused(&r, "escape in a word");
	r = (struct remote_req){ .op = REMOTE_EXEC, .host = "h",
	    .command = "echo a\rb" };
	expect_refused(&r, "CR in a command");
	r.command = "";
	expect_refused(&r, "empty command");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	r.command = big;
	expect_refused(&r, "command too long");
	/* A script with tabs and newlines is a command. */
	r.command = "for i in 1 2; do\n\techo $i\ndone";
	free(joined(&r, "ssh"));
}

static void
test_probe(void **state)
{
	struct remote_req r = { .op = REMOTE_PROBE, .host = "h",
	    .names = WORDS("rsync", "python3", "g++", "_x", "a.b-c"),
	    .nnames = 5 };
	static const char *const bad[] = {
		"a;b", "-x", "$(id)", "", "a b", ".x", "a/b", "a\n",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	};
	size_t i;

	expect_argv(&r, "ssh", "ssh|-T|" BATCH "|--|h|for n in rsync "
	    "python3 g++ _x a.b-c; do printf '%s ' \"$n\"; command -v \"$n\" "
	    "|| echo; done");
	/* Never a terminal for a probe; no names: reachability only. */
	r.tty = 1;
	r.nnames = 0;
	expect_argv(&r, "ssh", "ssh|-T|" BATCH "|--|h|true");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r.names = (const char *const []){ "ok", bad[i] };
		r.nnames = 2;
		expect_refused(&r, bad[i]);
	}
}

static void
test_copy(void **state)
{
	struct remote_req r = { .op = REMOTE_COPY_TO, .host = "bob@gw:2222",
	    .local = "data/a:b.txt", .remote = "~/in/x.txt" };

	/* A relative local path gets ./, so "a:b" is no host. */
	expect_argv(&r, "ssh", "scp|-q|" BATCH "|-S|ssh|-P|2222|--|"
	    "./data/a:b.txt|bob@gw:~/in/x.txt");
	r = (struct remote_req){ .op = REMOTE_COPY_FROM, .host = "[::1]:22",
	    .local = "/tmp/out", .remote = "/var/log/syslog",
	    .recursive = 1 };
	expect_argv(&r, "/usr/bin/ssh", "scp|-q|" BATCH
	    "|-S|/usr/bin/ssh|-P|22|-r|--|[::1]:/var/log/syslog|/tmp/out");
}

static void
test_sync(void **state)
{
	struct remote_req r = { .op = REMOTE_SYNC_PUSH, .host = "bob@gw:2222",
	    .local = "src/", .remote = "backup/src",
	    .exclude = WORDS("*.log", ".git/", "a b", "#x"), .nexclude = 4 };
	struct remote_target t;
	struct sxerr e;
	char **v;

	/* The -e string: fixed options and a number, nothing given. */
	expect_argv(&r, "ssh", "rsync|-a|-e|ssh -T -o BatchMode=yes "
	    "-o ControlMaster=no -o ControlPath=none "
	    "-o ClearAllForwardings=yes -o PermitLocalCommand=no -p 2222|"
	    "--exclude=*.log|--exclude=.git/|--exclude=a b|--exclude=#x|--|"
	    "./src/|bob@gw:backup/src");
	/* No delete unless asked. */
	r = (struct remote_req){ .op = REMOTE_SYNC_PULL, .host = "gw",
	    .local = "/tmp/dst/", .remote = "src/", .delete = 1 };
	expect_argv(&r, "/opt/bin/ssh", "rsync|-a|-e|/opt/bin/ssh -T "
	    "-o BatchMode=yes -o ControlMaster=no -o ControlPath=none "
	    "-o ClearAllForwardings=yes -o PermitLocalCommand=no|--delete|"
	    "--|gw:src/|/tmp/dst/");

	/* An ssh path rsync would split or read as an option is refused. */
	assert_int_equal(remote_check(&r, &t, &e), 0);
	assert_int_equal(remote_argv(&r, &t, "/opt/my ssh", &v, &e), -1);
	assert_int_equal(e.ex, EX_CONFIG);
	assert_null(v);
	assert_int_equal(remote_argv(&r, &t, "ssh -oProxyCommand=x", &v, &e),
	    -1);
	assert_int_equal(remote_argv(&r, &t, "-ossh", &v, &e), -1);
	assert_int_equal(remote_argv(&r, &t, "ssh;id", &v, &e), -1);
}

static void
test_paths_refused(void **state)
{
	static const char *const remote[] = {
		"-e", "--rsh=x", "a;b", "$(id)", "`id`", "a b", "a\nb", "a'b",
		"a\"b", "a|b", "a&b", "a>b", "a<b", "a*b", "a?b", "a[b]",
		"a\\b", "x~", "a{b,c}", "a$HOME", "", "a\tb", "!x", "a#b",
	};
	static const char *const local[] = { "-r", "--delete", "a\nb",
	    "a\x7f", "" };
	static const char *const exclude[] = {
		"+ *", "- x", "!", "+x", "-x", "a\nb", "\x1b", "", "caf\xc3\xa9",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	};
	enum remote_op ops[] = { REMOTE_COPY_TO, REMOTE_COPY_FROM,
	    REMOTE_SYNC_PUSH, REMOTE_SYNC_PULL };
	struct remote_req r;
	size_t i, k;

	for (k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
		r = (struct remote_req){ .op = ops[k], .host = "h",
		    .local = "l", .remote = "r" };
		free(joined(&r, "ssh"));
		for (i = 0; i < sizeof(remote) / sizeof(remote[0]); i++) {
			r.remote = remote[i];
			expect_refused(&r, remote[i]);
		}
		r.remote = "r";
		for (i = 0; i < sizeof(local) / sizeof(local[0]); i++) {
			r.local = local[i];
			expect_refused(&r, local[i]);
		}
		r.local = NULL;
		expect_refused(&r, "no local");
		r.local = "l";
		r.remote = NULL;
		expect_refused(&r, "no remote");
	}
	r = (struct remote_req){ .op = REMOTE_SYNC_PUSH, .host = "h",
	    .local = "l", .remote = "r" };
	for (i = 0; i < sizeof(exclude) / sizeof(exclude[0]); i++) {
		r.exclude = (const char *const []){ "ok", exclude[i] };
		r.nexclude = 2;
		expect_refused(&r, exclude[i]);
	}
	/* UTF-8 names and ~ for the home directory are paths. */
	r = (struct remote_req){ .op = REMOTE_COPY_TO, .host = "h",
	    .local = "caf\xc3\xa9 menu.txt", .remote = "~/caf\xc3\xa9" };
	free(joined(&r, "ssh"));
}

static int
gate(const struct policy *p, enum remote_op op, const char *host,
    const char *reached, struct sxerr *e)
{
	struct remote_target t;
	struct decision d;
	struct remote_req r = { .op = op, .host = host, .command = "true",
	    .local = "l", .remote = "r" };

	if (remote_check(&r, &t, e) != 0)
		fail_msg("remote_check %s: %s", host, e->msg);
	if (reached != NULL)
		strlcpy(t.reached, reached, sizeof(t.reached));
	return remote_gate(p, op, &t, &d, e);
}

static void
test_gate(void **state)
{
	struct config *cf;
	struct policy *p = policy_from_text(
	    "default: {ssh: allow}\n"
	    "hosts:\n"
	    "  lab: {exec: allow, copy: deny}\n"
	    "  store: {copy: allow}\n"
	    "  \"*.prod.example\": {exec: deny, copy: deny}\n"
	    "  \"*\": {exec: allow}\n", &cf);
	struct sxerr e;

	/* exec for a command and a probe, copy for copies and syncs. */
	assert_string_equal(remote_feature(REMOTE_EXEC), "exec");
	assert_string_equal(remote_feature(REMOTE_PROBE), "exec");
	assert_string_equal(remote_feature(REMOTE_COPY_TO), "copy");
	assert_string_equal(remote_feature(REMOTE_COPY_FROM), "copy");
	assert_string_equal(remote_feature(REMOTE_SYNC_PUSH), "copy");
	assert_string_equal(remote_feature(REMOTE_SYNC_PULL), "copy");

	assert_int_equal(gate(p, REMOTE_EXEC, "Lab", NULL, &e), 0);
	assert_int_equal(gate(p, REMOTE_PROBE, "u@lab:22", NULL, &e), 0);
	assert_int_equal(gate(p, REMOTE_COPY_TO, "lab", NULL, &e), -1);
	assert_int_equal(e.ex, EX_NOPERM);
	assert_non_null(strstr(e.msg, "lab: copy: denied by p.yaml:3:"));
	assert_int_equal(gate(p, REMOTE_SYNC_PULL, "store", NULL, &e), 0);
	/* Neither default: nor a rule names copy for this host: deny. */
	assert_int_equal(gate(p, REMOTE_COPY_FROM, "other", NULL, &e), -1);
	assert_int_equal(gate(p, REMOTE_EXEC, "db1.prod.example", NULL, &e),
	    -1);

	/* An alias whose HostName is denied is denied, naming both. */
	assert_int_equal(gate(p, REMOTE_EXEC, "lab", "db1.prod.example", &e),
	    -1);
	assert_int_equal(e.ex, EX_NOPERM);
	assert_non_null(strstr(e.msg, "lab (reached as db1.prod.example): "
	    "exec: denied by p.yaml:5:"));
	/* And a denied name stays denied whatever it reaches. */
	assert_int_equal(gate(p, REMOTE_EXEC, "x.prod.example", "lab", &e),
	    -1);
	assert_int_equal(gate(p, REMOTE_SYNC_PUSH, "store", "lab", &e), -1);
	policy_free(p);
	config_free(cf);

	/* No config file at all: everything denied. */
	p = policy_from_text("hosts: {}\n", &cf);
	assert_int_equal(gate(p, REMOTE_EXEC, "lab", NULL, &e), -1);
	assert_int_equal(e.ex, EX_NOPERM);
	policy_free(p);
	config_free(cf);
}

static void
test_probe_found(void **state)
{
	const char *out = "rsync /usr/bin/rsync\npython3 \ngit /usr/bin/git\n"
	    "cd cd\n";
	char path[64];

	assert_int_equal(remote_probe_found(out, "rsync", path, sizeof(path)),
	    1);
	assert_string_equal(path, "/usr/bin/rsync");
	assert_int_equal(remote_probe_found(out, "python3", path,
	    sizeof(path)), 0);
	assert_int_equal(remote_probe_found(out, "git", NULL, 0), 1);
	assert_int_equal(remote_probe_found(out, "cd", path, sizeof(path)),
	    1);
	assert_string_equal(path, "cd");
	/* A prefix of a name is not the name. */
	assert_int_equal(remote_probe_found(out, "rsyn", path, sizeof(path)),
	    0);
	assert_int_equal(remote_probe_found(out, "perl", path, sizeof(path)),
	    0);
	assert_int_equal(remote_probe_found("", "git", path, sizeof(path)),
	    0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec_argv),
		cmocka_unit_test(test_exec_refused),
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_copy),
		cmocka_unit_test(test_sync),
		cmocka_unit_test(test_paths_refused),
		cmocka_unit_test(test_gate),
		cmocka_unit_test(test_probe_found),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
