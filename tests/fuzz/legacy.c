/* SPDX-License-Identifier: AGPL-3.0-only */
/* libFuzzer: reading scitex-ssh 1.0's units back into tunnel definitions. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "legacy.h"
#include "tunnel.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct legacy l;
	static struct tunnel t;
	static char buf[16384], yaml[65536];
	struct sxerr e;

	if (len >= sizeof(buf))
		return 0;
	memcpy(buf, data, len);
	buf[len] = '\0';
	memset(&l, 0, sizeof(l));
	if (legacy_parse(buf, &l, &e) == 0 &&
	    legacy_tunnel(&l, "fuzz", &t, &e) == 0)
		(void)tunnel_yaml(&t, yaml, sizeof(yaml), &e);
	return 0;
}
