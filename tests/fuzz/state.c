/* SPDX-License-Identifier: AGPL-3.0-only */
/*
 * libFuzzer: the two files ssh-tunnel-ls reads for every row, read the way
 * it reads them (from a file, in its buffers): a state table as anything
 * able to write the state directory could leave it (state_read), and the
 * lock list (held_load, which /proc/locks feeds). Strings stay
 * terminated, numbers in range, no read past what was given.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "held.h"
#include "state.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char path[4096];

/* data as the whole of one file, the same one each time. */
static int
put(const uint8_t *data, size_t len)
{
	const char *tmp;
	int fd;

	if (path[0] == '\0') {
		tmp = getenv("TMPDIR");
		snprintf(path, sizeof(path), "%s/fuzz-state.XXXXXX",
		    tmp != NULL ? tmp : "/tmp");
		if ((fd = mkstemp(path)) == -1)
			abort();
		close(fd);
	}
	if ((fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)) == -1)
		abort();
	if (len > 0 && write(fd, data, len) != (ssize_t)len)
		abort();
	close(fd);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct tstate t;
	struct held h;
	struct sxerr e;

	put(data, len);
	if (state_read(path, &t, &e) == 0) {
		if (t.state[0] == '\0' ||
		    memchr(t.state, '\0', sizeof(t.state)) == NULL ||
		    memchr(t.reason, '\0', sizeof(t.reason)) == NULL ||
		    memchr(t.bastion, '\0', sizeof(t.bastion)) == NULL ||
		    t.pid < 0 || t.ssh_pid < 0)
			abort();
	}
	if (held_load(path, &h) == 0) {
		if (h.n > 65536 || (h.n > 0 && h.v == NULL))
			abort();
		(void)held_has(&h, 0, 0);
		(void)held_has(&h, (dev_t)t.ssh_dev, (ino_t)t.ssh_ino);
		held_free(&h);
	}
	return 0;
}
