/* SPDX-License-Identifier: AGPL-3.0-only */
/*
 * For unit tests: a policy from YAML text, through the same calls the
 * programs make (config_parse, policy_load), named p.yaml in messages.
 * Free with policy_free and config_free.
 */
static struct policy *
policy_from_text(const char *text, struct config **cfp)
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
