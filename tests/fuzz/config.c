/* SPDX-License-Identifier: AGPL-3.0-only */
/* libFuzzer: the YAML loader and the policy built on it. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct config cf;
	struct policy *p;
	struct decision d;
	struct sxerr e;
	char why[1024];

	memset(&cf, 0, sizeof(cf));
	strlcpy(cf.path, "fuzz.yaml", sizeof(cf.path));
	if (config_parse("fuzz.yaml", (const char *)data, len, &cf.root,
	    &e) == -1)
		return 0;
	if (cnode_is_null(cf.root) || cf.root->type == CN_MAP) {
		if (policy_load(&cf, &p, &e) == 0) {
			policy_decide(p, "labbox", "ssh", &d);
			policy_explain(&d, "labbox", why, sizeof(why));
			policy_decide(p, "a.example.org", "tunnels", &d);
			policy_free(p);
		}
	}
	cnode_free(cf.root);
	return 0;
}
