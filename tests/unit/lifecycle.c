/* SPDX-License-Identifier: AGPL-3.0-only */
/* A tunnel's life without a bastion: definitions, gate, rows, removal. */
#include <sys/stat.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lifecycle.h"

static char home[] = "/tmp/lc-unit-XXXXXX";
static char heard[4096];
static int heard_level;

static void
hear(void *arg, int level, const char *msg)
{
	strlcat(heard, msg, sizeof(heard));
	strlcat(heard, "\n", sizeof(heard));
	heard_level = level;
}

static int
setup(void **state)
{
	if (mkdtemp(home) == NULL)
		return -1;
	setenv("HOME", home, 1);
	setenv("XDG_CONFIG_HOME", home, 1);
	setenv("XDG_RUNTIME_DIR", home, 1);
	setenv("XDG_STATE_HOME", home, 1);
	unsetenv("SCITEX_SSH_CONFIG");
	unsetenv("SCITEX_SSH_BASTION_SERVER");
	unsetenv("SCITEX_SSH_SECRET_KEY_PATH");
	return 0;
}

static int
teardown(void **state)
{
	char path[64];

	snprintf(path, sizeof(path), "%s/policy.yaml", home);
	unlink(path);
	return rmdir(home);
}

/* lc_tunnel on req: the error's code and the start of its message. */
static void
expect_refused(const struct lc_req *q, int ex, const char *msg)
{
	static struct tunnel t;
	const struct backend *b;
	struct config *cf;
	struct sxerr e;

	assert_int_equal(lc_tunnel(q, NULL, &cf, &t, &b, &e), -1);
	assert_null(cf);
	assert_int_equal(e.ex, ex);
	assert_non_null(strstr(e.msg, msg));
}

static void
test_define(void **state)
{
	static struct tunnel t;
	struct lc_req q = { .name = "lab", .nbastion = 1, .port = "2222" };
	const struct backend *b;
	struct config *cf;
	struct sxerr e;

	q.bastion[0] = "u@gw.example.org";
	assert_int_equal(lc_tunnel(&q, NULL, &cf, &t, &b, &e), 0);
	config_free(cf);
	assert_null(b);		/* defined anew: the backend is picked later */
	assert_int_equal(t.nfwd, 1);
	assert_int_equal(t.fwd[0].port, 2222);
	assert_int_equal(t.fwd[0].hostport, 22);

	q.port = "0";
	expect_refused(&q, EX_DATAERR, "-p: ");
	q.port = "2222";
	q.local = "x:1:y:2";
	expect_refused(&q, EX_DATAERR, "-l: x:1:y:2: want "
	    "local_host:local_port");
	q.local = NULL;
	q.bastion[0] = "-oProxyCommand=x";
	expect_refused(&q, EX_DATAERR, "-b: ");
	q.nbastion = 0;
	expect_refused(&q, EX_USAGE, "lab: no bastion: give -b or set "
	    "SCITEX_SSH_BASTION_SERVER");
	q.port = NULL;
	expect_refused(&q, 1, "lab: no such tunnel; define it with -p and -b");
	assert_null(lc_backend("launchd", NULL, &e));
	assert_string_equal(e.msg, "-m: launchd: no such backend (systemd, "
	    "user, daemon)");
}

static void
test_gate(void **state)
{
	static const char yaml[] = "default: {tunnels: deny}\n";
	char path[64];
	struct config *cf;
	struct sxerr e;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/policy.yaml", home);
	assert_non_null(fp = fopen(path, "w"));
	fputs(yaml, fp);
	fclose(fp);
	assert_int_equal(config_open(path, &cf, &e), 0);
	assert_int_equal(lc_gate(cf, &e), -1);
	config_free(cf);
	assert_int_equal(e.ex, EX_NOPERM);
	assert_non_null(strstr(e.msg, ": denied by "));
	assert_non_null(strstr(e.msg, ": {tunnels: allow}"));
}

static void
test_rows(void **state)
{
	static struct tunnel t;
	struct lc_row r;
	struct sxerr e;
	char b[512];

	memset(&r, 0, sizeof(r));
	assert_int_equal(lc_row_port(&r), 0);
	assert_int_equal(lc_row_bastion(&r, b, sizeof(b)), 0);
	assert_string_equal(b, "");
	tunnel_init(&t, "lab");
	assert_int_equal(host_parse_bastion("a@one", &t.bastion[0], &e), 0);
	assert_int_equal(host_parse_bastion("b@two:2200", &t.bastion[1],
	    &e), 0);
	t.nbastion = 2;
	assert_int_equal(tunnel_parse_forward("L 8080:localhost:80",
	    &t.fwd[0], &e), 0);
	assert_int_equal(tunnel_parse_forward("R 2222:localhost:22",
	    &t.fwd[1], &e), 0);
	t.nfwd = 2;
	/* The port is the first R forward's; the bastion the one in use. */
	strlcpy(r.st.bastion, "b@two:2200", sizeof(r.st.bastion));
	lc_row_set(&r, &t);
	assert_int_equal(lc_row_port(&r), 2222);
	assert_int_equal(lc_row_bastion(&r, b, sizeof(b)), 1);
	assert_string_equal(b, "b@two:2200");
	strlcpy(r.st.bastion, "gone", sizeof(r.st.bastion));
	lc_row_set(&r, &t);
	assert_int_equal(lc_row_bastion(&r, b, sizeof(b)), 0);
	assert_string_equal(b, "a@one");
	/* No R forward: the first forward's port. */
	t.nfwd = 1;
	lc_row_set(&r, &t);
	assert_int_equal(lc_row_port(&r), 8080);
	strlcpy(r.st.state, "backoff", sizeof(r.st.state));
	r.st.up_since = time(NULL) - 100;
	assert_int_equal(lc_row_uptime(&r), 0);
	strlcpy(r.st.state, "up", sizeof(r.st.state));
	assert_true(lc_row_uptime(&r) >= 100);
}

static void
test_list_remove(void **state)
{
	struct lc_ctx c = { .note = hear };
	char *names[] = { "nope" };
	struct lc_sel one = { names, 1, 0, 0, 0 };
	struct lc_sel any = { NULL, 0, 0, 0, 0 };
	struct lc_sel port = { NULL, 0, 2222, 0, 0 };
	struct lc_sel all = { NULL, 0, 0, 1, 0 };
	struct lc_rows rows;
	struct config *cf;
	struct sxerr e;

	assert_int_equal(config_open("/nonexistent/x.yaml", &cf, &e), -1);
	assert_int_equal(config_open(NULL, &cf, &e), 0);
	heard[0] = '\0';
	assert_int_equal(lc_list(&c, cf, &one, &rows, &e), 0);
	assert_int_equal(rows.n, 0);
	assert_int_equal(rows.bad, 1);
	assert_string_equal(heard, "nope: no such tunnel\n");
	free(rows.v);
	assert_int_equal(lc_list(&c, cf, &any, &rows, &e), 0);
	assert_int_equal(rows.bad, 0);
	free(rows.v);

	heard[0] = '\0';
	assert_int_equal(lc_remove(&c, cf, &port, &e), 1);
	assert_string_equal(heard, "port 2222: no such tunnel\n");
	assert_int_equal(heard_level, LC_INFO);
	heard[0] = '\0';
	assert_int_equal(lc_remove(&c, cf, &one, &e), 1);
	assert_string_equal(heard, "nope: no such tunnel\n");
	/* All of none: nothing to say, nothing failed. */
	heard[0] = '\0';
	assert_int_equal(lc_remove(&c, cf, &all, &e), 0);
	assert_string_equal(heard, "");
	config_free(cf);
}

/*
 * Many rows, read side by side: in name order, each with its own
 * definition, what did not load said in that order, a port filter
 * leaving the one row (and its definition) on it.
 */
#define MANY	300

static void
test_list_many(void **state)
{
	struct lc_ctx c = { .note = hear };
	struct lc_sel any = { NULL, 0, 0, 0, 0 };
	struct lc_sel defs = { NULL, 0, 7123, 0, 1 };
	char dir[128], path[192], name[32], prev[32] = "";
	struct lc_rows rows;
	struct config *cf;
	struct sxerr e;
	size_t i;
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/scitex-ssh", home);
	(void)mkdir(dir, 0700);
	snprintf(dir, sizeof(dir), "%s/scitex-ssh/tunnels.d", home);
	assert_int_equal(mkdir(dir, 0700), 0);
	for (i = 0; i < MANY; i++) {
		snprintf(path, sizeof(path), "%s/m%03zu.yaml", dir, i);
		assert_non_null(f = fopen(path, "w"));
		if (i % 100 == 7)
			fprintf(f, "bastion: [\n");	/* does not load */
		else
			fprintf(f, "bastion: u@b.example:22\nforwards:\n"
			    "  - R %zu:localhost:22\n", 7000 + i);
		fclose(f);
	}
	assert_int_equal(config_open(NULL, &cf, &e), 0);
	heard[0] = '\0';
	assert_int_equal(lc_list(&c, cf, &any, &rows, &e), 0);
	assert_int_equal(rows.n, MANY);
	assert_int_equal(rows.bad, 1);
	for (i = 0; i < MANY; i++) {
		snprintf(name, sizeof(name), "m%03zu", i);
		assert_string_equal(rows.v[i].ref.name, name);
		assert_true(strcmp(prev, name) < 0);
		strlcpy(prev, name, sizeof(prev));
		assert_int_equal(rows.v[i].loaded, i % 100 != 7);
		assert_int_equal(lc_row_port(&rows.v[i]),
		    i % 100 == 7 ? 0 : (int)(7000 + i));
		assert_string_equal(rows.v[i].st.state, "stopped");
	}
	/* Said once each, in the rows' order. */
	assert_true(strstr(heard, "m007") < strstr(heard, "m107"));
	assert_true(strstr(heard, "m107") < strstr(heard, "m207"));
	assert_null(strstr(strstr(heard, "m207") + 1, "m207"));
	free(rows.v);

	assert_int_equal(lc_list(&c, cf, &defs, &rows, &e), 0);
	assert_int_equal(rows.n, 1);
	assert_string_equal(rows.v[0].ref.name, "m123");
	assert_non_null(rows.v[0].t);
	assert_int_equal(rows.v[0].t->fwd[0].port, 7123);
	free(rows.v);
	config_free(cf);

	for (i = 0; i < MANY; i++) {
		snprintf(path, sizeof(path), "%s/m%03zu.yaml", dir, i);
		unlink(path);
	}
	rmdir(dir);
	snprintf(dir, sizeof(dir), "%s/scitex-ssh", home);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_define),
		cmocka_unit_test(test_gate),
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_list_remove),
		cmocka_unit_test(test_list_many),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
