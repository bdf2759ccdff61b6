/* SPDX-License-Identifier: AGPL-3.0-only */
/*
 * libFuzzer: a cache set's records (pcset_parse) as a same-user writer
 * could leave them, and the rows' columns read back from a record's blob
 * (lc_row_from_blob): every record found again by its name, no read past
 * what was given, a bastion always NUL-terminated.
 */
#include <sys/stat.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lifecycle.h"
#include "pcache.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct lc_row r;
	struct pcset s;
	struct stat st;
	char name[256], *buf;
	const char *blob;
	size_t i, n;

	/* The first line: the state's bastion; the rest, a blob. */
	memset(&r, 0, sizeof(r));
	for (i = 0; i < len && i < sizeof(r.st.bastion) - 1 &&
	    data[i] != '\n' && data[i] != '\0'; i++)
		r.st.bastion[i] = (char)data[i];
	if (i < len)
		i++;
	if ((buf = malloc(len - i + 1)) == NULL)
		return 0;
	memcpy(buf, data + i, len - i);
	if (lc_row_from_blob(&r, buf, len - i) == 0) {
		if (strlen(r.bastion) >= sizeof(r.bastion) || r.port < 0 ||
		    r.port > 65535 || !r.loaded)
			abort();
	}
	free(buf);

	if ((buf = malloc(len + 1)) == NULL)
		return 0;
	memcpy(buf, data, len);
	memset(&st, 0, sizeof(st));
	if (pcset_parse(&s, buf, len) == 0) {
		for (i = 0; i < s.n; i++) {
			memcpy(name, s.v[i].name, s.v[i].namelen);
			name[s.v[i].namelen] = '\0';
			if (strlen(name) != s.v[i].namelen)
				continue;	/* a NUL in it: not findable */
			blob = pcset_find(&s, name, &st, &n);
			(void)blob;
		}
		free(s.v);
	}
	free(buf);
	return 0;
}
