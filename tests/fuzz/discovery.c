/* SPDX-License-Identifier: AGPL-3.0-only */
/*
 * libFuzzer: the discovery file a scheduler writes, as the supervisor
 * reads it. Whatever it names must be a host and a port that ssh's -L
 * argument can carry as one word: checked again here, independently.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "discovery.h"
#include "tunnel.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct tunnel t;
	static struct sshargv a;
	struct dtarget d;
	struct sxerr e;
	size_t i;

	if (t.disc.file[0] == '\0') {
		tunnel_init(&t, "qwen");
		if (host_parse_bastion("me@spartan", &t.bastion[0], &e) == -1 ||
		    tunnel_set_discovery(&t, "/run/qwen.json", "4000", 0,
		    &e) == -1)
			abort();
		t.nbastion = 1;
	}
	if (discovery_parse(&t, "qwen.json", (const char *)data, len, &d,
	    &e) == -1)
		return 0;
	if (d.port < 1 || d.port > 65535 || d.host[0] == '\0' ||
	    d.host[0] == '-')
		abort();
	for (i = 0; d.host[i] != '\0'; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789.-:_%", d.host[i]) == NULL)
			abort();
	discovery_point(&t, &d);
	if (tunnel_argv(&t, 0, "ssh", 0, &a, &e) == -1 || a.argv[a.argc] != NULL)
		abort();
	return 0;
}
