/* SPDX-License-Identifier: AGPL-3.0-only */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <ftw.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guard.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct guard g;
static struct guard_cmd cmd;

static char dir[256];

static int
rm1(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

/* libFuzzer ends a finished run with exit(): the tree goes with it. */
static void
cleanup(void)
{
	nftw(dir, rm1, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * Two roots and a symlink that leads out, made once per run in $TMPDIR
 * (or /tmp), removed at exit.
 */
static void
init(void)
{
	const char *tmp = getenv("TMPDIR");
	char p[512];
	struct sxerr e;

	snprintf(dir, sizeof(dir), "%s/scitex-fuzz-guard-XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		abort();
	atexit(cleanup);
	snprintf(p, sizeof(p), "%s/ro", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/rw", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/rw/esc", dir);
	if (symlink("/etc", p) == -1)
		abort();
	guard_init(&g);
	snprintf(p, sizeof(p), "%s/ro:ro", dir);
	if (guard_add_root(&g, p, &e) == -1)
		abort();
	snprintf(p, sizeof(p), "%s/rw:rw", dir);
	if (guard_add_root(&g, p, &e) == -1)
		abort();
}

/*
 * Whatever comes in: no crash, and anything allowed is one of the three
 * programs with a NULL-terminated argv free of control characters.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sxerr e;
	size_t i;
	const char *s;

	if (g.nroot == 0)
		init();
	if (guard_parse(&g, (const char *)data, size, &cmd, &e) == -1) {
		if (e.ex != EX_NOPERM || strchr(e.msg, '\n') != NULL)
			abort();
		return 0;
	}
	if (cmd.argc == 0 || cmd.argv[cmd.argc] != NULL || cmd.prog == NULL)
		abort();
	if (strcmp(cmd.argv[0], "scp") != 0 &&
	    strcmp(cmd.argv[0], "rsync") != 0 &&
	    strcmp(cmd.argv[0], "sftp-server") != 0)
		abort();
	for (i = 0; i < cmd.argc; i++)
		for (s = cmd.argv[i]; *s != '\0'; s++)
			if ((unsigned char)*s < 0x20 || *s == 0x7f)
				abort();
	return 0;
}
