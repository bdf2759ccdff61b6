/* SPDX-License-Identifier: AGPL-3.0-only */
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

/* Load a policy from text, through the same calls the programs make. */
static struct policy *
load(const char *text, struct config **cfp)
{
	struct config *cf;
	struct policy *p;
	struct sxerr e;

	assert_non_null(cf = calloc(1, sizeof(*cf)));
	strlcpy(cf->path, "p.yaml", sizeof(cf->path));
	if (config_parse("p.yaml", text, strlen(text), &cf->root, &e) != 0 ||
	    policy_load(cf, &p, &e) != 0)
		fail_msg("load: %s", e.msg);
	*cfp = cf;
	return p;
}

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
	struct policy *p = load(design, &cf);

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
	struct policy *p = load("hosts:\n"
	    "  \"*\": {ssh: deny}\n"
	    "  labbox: {ssh: allow}\n", &cf);

	expect(p, "labbox", "ssh", 0, DEC_RULE, 2);
	policy_free(p);
	config_free(cf);
	p = load("hosts:\n"
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
	struct policy *p = load("default: {tunnels: deny}\n"
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
	p = load("default:\nhosts:\n", &cf);
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
	struct policy *p = load("hosts:\n  \"LAB*\": {ssh: allow}\n", &cf);
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
	p = load(text, &cf);
	expect(p, "h9999.example.org", "ssh", 1, DEC_RULE, 10001);
	expect(p, "h10000.example.org", "ssh", 0, DEC_NONE, 0);
	policy_free(p);
	config_free(cf);
	free(text);
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
		cmocka_unit_test(test_many_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
