/* SPDX-License-Identifier: AGPL-3.0-only */
/*
 * libFuzzer: the ssh_options grammar. Whatever it accepts holds nothing a
 * shell acts on (the value reaches Match exec and ProxyCommand lines),
 * names an option of the table, and travels through a tunnels.d file and
 * back unchanged.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "sshopt.h"
#include "tunnel.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Characters any accepted option may hold: none is special to sh. */
static int
harmless(const char *s)
{
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr("@.,+^_/~:[]=-",
		    *s) != NULL))
			return 0;
	return 1;
}

static void
roundtrip(const char *opt)
{
	static struct tunnel t, u;
	static char buf[8192];
	struct cnode *root;
	struct sxerr e;

	tunnel_init(&t, "labbox");
	if (host_parse_bastion("gw", &t.bastion[0], &e) == -1 ||
	    tunnel_parse_forward("R 2222:localhost:22", &t.fwd[0], &e) == -1)
		abort();
	t.nbastion = t.nfwd = 1;
	if (tunnel_add_option(&t, opt, &e) == -1 || tunnel_yaml(&t, buf, sizeof(buf), &e) == -1 ||
	    config_parse("w.yaml", buf, strlen(buf), &root, &e) == -1 ||
	    tunnel_from_node("labbox", "w.yaml", root, &u, &e) == -1)
		abort();
	cnode_free(root);
	if (u.nopt != 1 || strcmp(tunnel_option(&u, 0), opt) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const struct sshopt *tab;
	struct sxerr e;
	size_t n, i, klen;
	char *s;

	if ((s = malloc(len + 1)) == NULL)
		return 0;
	memcpy(s, data, len);
	s[len] = '\0';
	if (sshopt_check(s, &e) == 0 && strlen(s) == len) {
		if (!harmless(s) || strchr(s, '=') == NULL ||
		    strchr(strchr(s, '=') + 1, '=') != NULL)
			abort();
		klen = strcspn(s, "=");
		tab = sshopt_table(&n);
		for (i = 0; i < n; i++)
			if (strlen(tab[i].name) == klen &&
			    strncasecmp(tab[i].name, s, klen) == 0)
				break;
		if (i == n)
			abort();
		if (len < TUN_OPT_LEN)
			roundtrip(s);
	}
	if (sshopt_path(s, &e) == 0 && (!harmless(s) || strchr(s, ':') ||
	    strchr(s, '=') || strchr(s, '[')))
		abort();
	free(s);
	return 0;
}
