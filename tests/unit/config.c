/* SPDX-License-Identifier: AGPL-3.0-only */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "policy.h"

static char dir[] = "/tmp/scitex-config-XXXXXX";

static const char *
put(const char *name, const char *text)
{
	static char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(fp = fopen(path, "w"));
	fputs(text, fp);
	fclose(fp);
	return path;
}

/* Every error names the file, the line and the column of the culprit. */
static const struct { const char *text, *want; } errors[] = {
	{ "hosts: [\n", "x.yaml:2:1: not valid YAML" },
	{ "foo: 1\n", "x.yaml:1:1: unknown key \"foo\"" },
	{ "default:\n  ssh: maybe\n", "x.yaml:2:8: ssh: expected allow or deny" },
	{ "default:\n  ssh: [allow]\n", "x.yaml:2:8: ssh: expected allow" },
	{ "hosts:\n  a: {ssh: yes}\n", "x.yaml:2:12: ssh: expected allow" },
	{ "hosts:\n  \"a b\": {ssh: allow}\n", "x.yaml:2:3: character ' '" },
	{ "hosts:\n  \"a,,b\": {ssh: allow}\n", "x.yaml:2:3: empty element" },
	{ "hosts:\n  a: {ssh: allow}\n  a: {ssh: deny}\n",
	    "x.yaml:3:3: duplicate key \"a\" (first at line 2)" },
	{ "hosts:\n  a: {\"s h\": allow}\n", "x.yaml:2:7: \"s h\" is not" },
	{ "hosts: 3\n", "x.yaml:1:8: hosts: expected a map" },
	{ "- a\n- b\n", "x.yaml:1:1: expected a map" },
	{ "a: &x 1\nb: *x\n", "x.yaml:2:4: aliases are not allowed" },
	{ "default: {ssh: allow}\n---\ndefault: {}\n",
	    "more than one document" },
	{ "default:\n\tssh: allow\n", "x.yaml:2:1: not valid YAML" },
	{ "{? [a]: b}\n", "a map key must be a plain value" },
};

static void
test_errors(void **state)
{
	struct config *cf;
	struct policy *p;
	struct sxerr e;
	const char *path;
	size_t i;

	for (i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
		path = put("x.yaml", errors[i].text);
		memset(&e, 0, sizeof(e));
		if (config_load(path, &cf, &e) == 0) {
			int rc = policy_load(cf, &p, &e);
			if (rc == 0)
				policy_free(p);
			config_free(cf);
			if (rc == 0)
				fail_msg("case %zu accepted", i);
		}
		assert_int_equal(e.ex, EX_CONFIG);
		if (strstr(e.msg, errors[i].want) == NULL)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, e.msg,
			    errors[i].want);
	}
}

static void
test_tree(void **state)
{
	struct cnode *root;
	const struct cnode *t, *b;
	struct sxerr e;
	static const char text[] = "tunnels:\n  labbox:\n"
	    "    bastion: [a@gw1, b@gw2]\n    retry_max: 30\n    key: ''\n";

	assert_int_equal(config_parse("t.yaml", text, strlen(text), &root, &e),
	    0);
	t = cnode_get(cnode_get(root, "tunnels"), "labbox");
	assert_non_null(t);
	b = cnode_get(t, "bastion");
	assert_int_equal(b->type, CN_SEQ);
	assert_int_equal(b->nkid, 2);
	assert_string_equal(b->kid[1]->str, "b@gw2");
	assert_int_equal(b->kid[1]->line, 3);
	assert_int_equal(b->kid[1]->col, 22);
	assert_false(cnode_is_null(cnode_get(t, "key")));
	assert_null(cnode_get(t, "nope"));
	cnode_free(root);
}

static void
test_search_order(void **state)
{
	char home[300], p[400];
	struct config *cf;
	struct sxerr e;

	snprintf(home, sizeof(home), "%s/home", dir);
	mkdir(home, 0700);
	setenv("HOME", home, 1);
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("SCITEX_SSH_CONFIG");
	/* nothing anywhere (unless /etc has one): no root, places listed */
	if (access("/etc/scitex-ssh/config.yaml", F_OK) != 0) {
		assert_int_equal(config_open(NULL, &cf, &e), 0);
		assert_null(cf->root);
		assert_string_equal(cf->path, "");
		assert_non_null(strstr(cf->searched, "/.scitex/ssh/config.yaml"));
		config_free(cf);
	}
	/* the 1.0 location, read as is */
	snprintf(p, sizeof(p), "%s/.scitex", home);
	mkdir(p, 0700);
	strlcat(p, "/ssh", sizeof(p));
	mkdir(p, 0700);
	strlcat(p, "/config.yaml", sizeof(p));
	FILE *fp = fopen(p, "w");
	fputs("default: {tunnels: deny}\nhosts: {mba: {tunnels: allow}}\n", fp);
	fclose(fp);
	assert_int_equal(config_open(NULL, &cf, &e), 0);
	assert_string_equal(cf->path, p);
	config_free(cf);
	/* the XDG one wins over it */
	snprintf(p, sizeof(p), "%s/.config", home);
	mkdir(p, 0700);
	strlcat(p, "/scitex-ssh", sizeof(p));
	mkdir(p, 0700);
	strlcat(p, "/config.yaml", sizeof(p));
	fp = fopen(p, "w");
	fputs("default: {ssh: allow}\n", fp);
	fclose(fp);
	assert_int_equal(config_open(NULL, &cf, &e), 0);
	assert_string_equal(cf->path, p);
	config_free(cf);
	/* the environment wins over both; a missing named file is an error */
	setenv("SCITEX_SSH_CONFIG", "/nonexistent/x.yaml", 1);
	assert_int_equal(config_open(NULL, &cf, &e), -1);
	assert_int_equal(e.ex, EX_CONFIG);
	assert_non_null(strstr(e.msg, "/nonexistent/x.yaml"));
	/* and -F wins over the environment */
	assert_int_equal(config_open(p, &cf, &e), 0);
	assert_string_equal(cf->path, p);
	config_free(cf);
	unsetenv("SCITEX_SSH_CONFIG");
}

static int
setup(void **state)
{
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_tree),
		cmocka_unit_test(test_search_order),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
