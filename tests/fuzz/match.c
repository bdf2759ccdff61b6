/* SPDX-License-Identifier: AGPL-3.0-only */
/*
 * libFuzzer: the pattern matcher and host validation. The input is split at
 * the first NUL into a subject and a pattern list; the glob must agree with
 * a plain recursive reference whenever the reference is cheap to run.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "tunnel.h"
#include "match.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#include "../lib/naive_match.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char *buf, *pat, canon[HOST_MAX + 1];
	struct bastion b;
	struct sxerr e;
	size_t stars = 0, i;

	if ((buf = malloc(len + 2)) == NULL)
		return 0;
	memcpy(buf, data, len);
	buf[len] = buf[len + 1] = '\0';
	pat = buf + strlen(buf) + 1;
	if (host_canon(buf, canon, sizeof(canon), &e) == 0) {
		if (match_list_check(pat, &e) == 0)
			(void)match_list(canon, pat);
		for (i = 0; pat[i] != '\0'; i++) {
			stars += pat[i] == '*';
			if (pat[i] >= 'A' && pat[i] <= 'Z')
				stars = 99;	/* the reference is case-blind */
		}
		if (stars <= 3 && strlen(canon) < 40 &&
		    match_glob(canon, pat) != naive(canon, pat))
			abort();
	}
	(void)host_parse_bastion(buf, &b, &e);
	(void)tunnel_valid_name(buf, &e);
	free(buf);
	return 0;
}
