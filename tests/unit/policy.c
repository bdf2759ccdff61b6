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
#include "policy.h"

#include "../lib/policy_text.h"

static void
expect(const struct policy *p, const char *host, const char *feature,
    int allow, enum decision_by by, unsigned line)
{
	struct decision d;

	policy_decide(p, host, feature, &d);
	if (d.allow != allow || d.by != by || (line && d.line != line))
		fail_msg("%s/%s: got allow=%d by=%d line=%u, want %d %d %u",
		    host, feature, d.allow, d.by, d.line, allow, by, line);
}

static const char design[] =
    "default:\n"
    "  ssh: allow\n"
    "  tunnels: deny\n"
    "hosts:\n"
    "  labbox:   {tunnels: allow}\n"
    "  \"*.hpc.example.edu\": {ssh: allow, tunnels: deny}\n"
    "  \"!*.example.edu,*\":  {ssh: deny}\n";

/* The example of DESIGN.md, decision by decision. */
static void
test_design_example(void **state)
{
	struct config *cf;
	struct policy *p = policy_from_text(design, &cf);

	expect(p, "labbox", "tunnels", 1, DEC_RULE, 5);
	/* labbox's entry does not name ssh: the next matching entry does */
	expect(p, "labbox", "ssh", 0, DEC_RULE, 7);
	expect(p, "n1.hpc.example.edu", "ssh", 1, DEC_RULE, 6);
	expect(p, "n1.hpc.example.edu", "tunnels", 0, DEC_RULE, 6);
	/* negated: the entry does not match, default decides */
	expect(p, "www.example.edu", "ssh", 1, DEC_DEFAULT, 2);
	expect(p, "www.example.edu", "tunnels", 0, DEC_DEFAULT, 3);
	/* a feature nobody names: deny */
	expect(p, "labbox", "copy", 0, DEC_NONE, 0);
	expect(p, "www.example.edu", "copy", 0, DEC_NONE, 0);
	policy_free(p);
	config_free(cf);
}

/* First match in file order, not the most specific one. */
static void
test_first_match(void **state)
{
	struct config *cf;
	struct policy *p = policy_from_text("hosts:\n"
	    "  \"*\": {ssh: deny}\n"
	    "  labbox: {ssh: allow}\n", &cf);

	expect(p, "labbox", "ssh", 0, DEC_RULE, 2);
	policy_free(p);
	config_free(cf);
	p = policy_from_text("hosts:\n"
	    "  labbox: {ssh: allow}\n"
	    "  \"*\": {ssh: deny}\n", &cf);
	expect(p, "labbox", "ssh", 1, DEC_RULE, 2);
	expect(p, "other", "ssh", 0, DEC_RULE, 3);
	policy_free(p);
	config_free(cf);
}

/* scitex-ssh 1.0's file, as is. */
static void
test_v1_file(void **state)
{
	struct config *cf;
	struct policy *p = policy_from_text("default: {tunnels: deny}\n"
	    "hosts: {mba: {tunnels: allow}}\n", &cf);

	expect(p, "mba", "tunnels", 1, DEC_RULE, 2);
	expect(p, "labbox", "tunnels", 0, DEC_DEFAULT, 1);
	expect(p, "mba", "ssh", 0, DEC_NONE, 0);
	policy_free(p);
	config_free(cf);
}

static void
test_empty_and_missing(void **state)
{
	struct config *cf;
	struct policy *p;
	struct decision d;
	struct sxerr e;

	/* empty sections are allowed, and deny everything */
	p = policy_from_text("default:\nhosts:\n", &cf);
	expect(p, "a", "ssh", 0, DEC_NONE, 0);
	policy_free(p);
	config_free(cf);
	/* no file at all */
	assert_non_null(cf = calloc(1, sizeof(*cf)));
	assert_int_equal(policy_load(cf, &p, &e), 0);
	policy_decide(p, "a", "ssh", &d);
	assert_int_equal(d.allow, 0);
	assert_int_equal(d.by, DEC_NOFILE);
	policy_free(p);
	config_free(cf);
}

static void
test_case_and_explain(void **state)
{
	struct config *cf;
	struct policy *p = policy_from_text("hosts:\n  \"LAB*\": {ssh: allow}\n", &cf);
	struct decision d;
	char buf[512];

	expect(p, "labbox", "ssh", 1, DEC_RULE, 2);
	policy_decide(p, "labbox", "ssh", &d);
	policy_explain(&d, "labbox", buf, sizeof(buf));
	assert_string_equal(buf, "p.yaml:2:17: hosts: \"LAB*\": ssh: allow");
	policy_free(p);
	config_free(cf);
}

static void
test_features(void **state)
{
	struct sxerr e;

	assert_int_equal(policy_valid_feature("ssh", &e), 0);
	assert_int_equal(policy_valid_feature("jupyter_lab-2", &e), 0);
	assert_int_equal(policy_valid_feature("", &e), -1);
	assert_int_equal(policy_valid_feature("-x", &e), -1);
	assert_int_equal(policy_valid_feature("a b", &e), -1);
	assert_int_equal(policy_valid_feature("a;b", &e), -1);
}

/* Ten thousand rules: the last one still decides, and quickly enough. */
static void
test_many_rules(void **state)
{
	struct config *cf;
	struct policy *p;
	size_t i, n = 0, cap = 10000 * 40 + 64;
	char *text;

	assert_non_null(text = malloc(cap));
	n += snprintf(text + n, cap - n, "hosts:\n");
	for (i = 0; i < 10000; i++)
		n += snprintf(text + n, cap - n,
		    "  \"h%zu.example.org\": {ssh: allow}\n", i);
	p = policy_from_text(text, &cf);
	expect(p, "h9999.example.org", "ssh", 1, DEC_RULE, 10001);
	expect(p, "h10000.example.org", "ssh", 0, DEC_NONE, 0);
	policy_free(p);
	config_free(cf);
	free(text);
}

static void
write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

/*
 * The compiled copy decides exactly as the file does, and is dropped the
 * moment the file changes (also within the same second) or is tampered
 * with.
 */
static void
test_compiled_copy(void **state)
{
	char dir[] = "/tmp/scitex-pcache-XXXXXX", path[300], cache[300];
	struct policy *p;
	struct sxerr e;
	struct decision d;

	assert_non_null(mkdtemp(dir));
	setenv("XDG_CACHE_HOME", dir, 1);
	snprintf(path, sizeof(path), "%s/c.yaml", dir);
	write_file(path, design);
	sleep(3);	/* only settled files are compiled */
	assert_int_equal(policy_open(path, &p, &e), 0);
	assert_non_null(p->cf);		/* parsed */
	policy_free(p);
	assert_int_equal(policy_open(path, &p, &e), 0);
	assert_null(p->cf);		/* compiled copy */
	assert_non_null(p->blob);
	expect(p, "labbox", "tunnels", 1, DEC_RULE, 5);
	expect(p, "labbox", "ssh", 0, DEC_RULE, 7);
	expect(p, "www.example.edu", "ssh", 1, DEC_DEFAULT, 2);
	expect(p, "labbox", "copy", 0, DEC_NONE, 0);
	policy_decide(p, "n1.hpc.example.edu", "tunnels", &d);
	assert_string_equal(d.pattern, "*.hpc.example.edu");
	assert_string_equal(d.path, path);
	policy_free(p);
	/* changed at once: same size, same second; parsed again */
	write_file(path, "default: {ssh: deny, tunnels: deny}\nhosts:\n"
	    "  labbox: {tunnels: deny}\n");
	assert_int_equal(policy_open(path, &p, &e), 0);
	assert_non_null(p->cf);
	expect(p, "labbox", "tunnels", 0, DEC_RULE, 3);
	policy_free(p);
	/* a broken file is an error even if a compiled copy exists */
	write_file(path, "hosts: [\n");
	assert_int_equal(policy_open(path, &p, &e), -1);
	assert_int_equal(e.ex, EX_CONFIG);
	/* a compiled copy others may write is not believed */
	write_file(path, design);
	sleep(3);
	assert_int_equal(policy_open(path, &p, &e), 0);
	policy_free(p);
	snprintf(cache, sizeof(cache), "chmod 666 %s/scitex-ssh/pol2-*", dir);
	assert_int_equal(system(cache), 0);
	assert_int_equal(policy_open(path, &p, &e), 0);
	assert_non_null(p->cf);
	policy_free(p);
	snprintf(cache, sizeof(cache), "rm -rf '%s'", dir);
	assert_int_equal(system(cache), 0);
	unsetenv("XDG_CACHE_HOME");
}

/* The text is refused (78), the message holding want, at line:col. */
static void
refused(const char *text, const char *want)
{
	struct config *cf;
	struct policy *p = NULL;
	struct sxerr e;

	assert_non_null(cf = calloc(1, sizeof(*cf)));
	strlcpy(cf->path, "p.yaml", sizeof(cf->path));
	assert_int_equal(config_parse("p.yaml", text, strlen(text), &cf->root,
	    &e), 0);
	if (policy_load(cf, &p, &e) != -1)
		fail_msg("accepted: %s", text);
	assert_int_equal(e.ex, EX_CONFIG);
	if (strstr(e.msg, want) == NULL)
		fail_msg("\"%s\": want \"%s\"", e.msg, want);
	config_free(cf);
}

static void
test_feature_names(void **state)
{
	struct config *cf;
	struct policy *p;

	refused("default: {tunels: allow}\n", "p.yaml:1:11: unknown feature "
	    "\"tunels\": did you mean \"tunnels\"?");
	refused("hosts:\n  a: {SSH: deny}\n", "p.yaml:2:7: unknown feature "
	    "\"SSH\": did you mean \"ssh\"?");
	refused("hosts:\n  a: {Tunnels: deny}\n", "did you mean \"tunnels\"");
	refused("hosts:\n  a: {jupyter: deny}\n", "unknown feature "
	    "\"jupyter\": known are ssh, tunnels, copy, exec");
	refused("features: [jupyter]\nhosts:\n  a: {jupiter: deny}\n",
	    "did you mean \"jupyter\"");
	refused("features: [Jupyter]\n", "p.yaml:1:12: features: "
	    "\"Jupyter\" is not a valid feature name");
	refused("features: {a: b}\n", "features: expected a list");
	refused("features: [[a]]\n", "features: expected a feature name");
	/* declared: valid, and decides */
	p = policy_from_text("features: [jupyter]\nhosts:\n  a: {jupyter: allow}\n", &cf);
	expect(p, "a", "jupyter", 1, DEC_RULE, 3);
	policy_free(p);
	config_free(cf);
}

static void
test_pattern_canon(void **state)
{
	struct config *cf;
	struct policy *p;
	struct decision d;
	char buf[512];

	p = policy_from_text("hosts:\n"
	    "  \"evil.test.\": {ssh: deny}\n"
	    "  \"0:0:0:0:0:0:0:1\": {ssh: deny}\n"
	    "  \"::FFFF:10.0.0.1\": {ssh: deny}\n"
	    "  \"*.Example.ORG.\": {ssh: deny}\n"
	    "  \"!Keep.Example.Org,*\": {exec: deny}\n"
	    "  \"*\": {ssh: allow, exec: allow}\n", &cf);
	expect(p, "evil.test", "ssh", 0, DEC_RULE, 2);
	expect(p, "::1", "ssh", 0, DEC_RULE, 3);
	expect(p, "10.0.0.1", "ssh", 0, DEC_RULE, 4);
	expect(p, "a.example.org", "ssh", 0, DEC_RULE, 5);
	expect(p, "other", "ssh", 1, DEC_RULE, 7);
	expect(p, "keep.example.org", "exec", 1, DEC_RULE, 7);
	expect(p, "x", "exec", 0, DEC_RULE, 6);
	/* -x shows the pattern as written */
	policy_decide(p, "::1", "ssh", &d);
	policy_explain(&d, "::1", buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"0:0:0:0:0:0:0:1\""));
	policy_free(p);
	config_free(cf);
	refused("hosts:\n  \"127.1\": {ssh: deny}\n", "p.yaml:2:3: pattern "
	    "\"127.1\" can never match: 127.1: not a valid host");
	refused("hosts:\n  \"a,2130706433\": {ssh: deny}\n",
	    "can never match");
	refused("hosts:\n  \"a..b\": {ssh: deny}\n", "can never match");
	refused("hosts:\n  \"*..b\": {ssh: deny}\n", "can never match: an "
	    "empty label");
	refused("hosts:\n  \".*\": {ssh: deny}\n", "can never match");
	refused("hosts:\n  \"0.0.0.0\": {ssh: deny}\n", "unspecified");
	refused("hosts:\n  \"!::\": {ssh: deny}\n", "unspecified");
	refused("hosts:\n  \"-a\": {ssh: deny}\n", "can never match");
	refused("hosts:\n  \"a$b\": {ssh: deny}\n", "not allowed");
}

/* A wildcard element one longer than a host name fits exactly (the
 * config fuzzer found it written one byte past its buffer); one more is
 * refused. */
static void
test_pattern_long(void **state)
{
	struct config *cf;
	struct policy *p;
	char text[600];

	snprintf(text, sizeof(text), "hosts:\n  \"*%0255d\": {ssh: deny}\n",
	    0);
	p = policy_from_text(text, &cf);
	policy_free(p);
	config_free(cf);
	snprintf(text, sizeof(text), "hosts:\n  \"*%0256d\": {ssh: deny}\n",
	    0);
	refused(text, "longer than a host name");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_design_example),
		cmocka_unit_test(test_first_match),
		cmocka_unit_test(test_v1_file),
		cmocka_unit_test(test_empty_and_missing),
		cmocka_unit_test(test_case_and_explain),
		cmocka_unit_test(test_features),
		cmocka_unit_test(test_feature_names),
		cmocka_unit_test(test_pattern_canon),
		cmocka_unit_test(test_pattern_long),
		cmocka_unit_test(test_many_rules),
		cmocka_unit_test(test_compiled_copy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
