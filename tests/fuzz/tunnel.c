/* SPDX-License-Identifier: AGPL-3.0-only */
/*
 * libFuzzer: a tunnel definition from YAML, and everything made from it
 * (the tunnels.d file, which must read back the same, the ssh argv, the
 * client block); also a forward spec alone.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "discovery.h"
#include "tunnel.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
made_from(const struct tunnel *t)
{
	static char buf[65536], again[65536], block[2048];
	static struct sshargv a;
	static struct tunnel u;
	struct cnode *root;
	struct sxerr e;
	size_t i;

	if (tunnel_yaml(t, buf, sizeof(buf), &e) == -1)
		abort();
	if (config_parse("w.yaml", buf, strlen(buf), &root, &e) == -1 ||
	    tunnel_from_node(t->name, "w.yaml", root, &u, &e) == -1)
		abort();	/* what we write, we must read */
	cnode_free(root);
	if (tunnel_yaml(&u, again, sizeof(again), &e) == -1 ||
	    strcmp(buf, again) != 0)
		abort();
	/* A discovery forward has its target from the file, at run time. */
	u = *t;
	if (u.disc.file[0] != '\0')
		discovery_point(&u, &(struct dtarget){ "gpu-a017", 4000 });
	for (i = 0; i < u.nbastion; i++)
		if (tunnel_argv(&u, i, "ssh", 0, &a, &e) == -1 ||
		    a.argv[a.argc] != NULL)
			abort();
	(void)tunnel_client_block(t, 0, block, sizeof(block), &e);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct tunnel t;
	struct forward f;
	struct cnode *root;
	struct sxerr e;
	char *s;

	setenv("HOME", "/home/fuzz", 1);
	if ((s = malloc(len + 1)) == NULL)
		return 0;
	memcpy(s, data, len);
	s[len] = '\0';
	if (tunnel_parse_forward(s, &f, &e) == 0) {
		char spec[600];

		if (tunnel_fmt_forward(&f, 0, spec, sizeof(spec)) == -1)
			abort();
	}
	free(s);
	if (config_parse("fuzz.yaml", (const char *)data, len, &root, &e) == -1)
		return 0;
	if (tunnel_from_node("labbox", "fuzz.yaml", root, &t, &e) == 0)
		made_from(&t);
	cnode_free(root);
	return 0;
}
