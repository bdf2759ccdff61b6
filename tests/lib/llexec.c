/* SPDX-License-Identifier: AGPL-3.0-only */
/*
 * Test harness, never installed: the Landlock layer of ssh-copy-guard on
 * its own. It takes the roots as ssh-copy-guard does, splits
 * SSH_ORIGINAL_COMMAND with the library's guard_split(), confines itself
 * with the library's guard_rules() and landlock_confine() -- the
 * production objects, unchanged -- and executes scp or rsync with the
 * client's words as they are: none of the path or option checks of
 * guard_parse() runs. A test then shows that the kernel alone stops what
 * those checks would have refused.
 *
 *	llexec [-n] -r dir[:ro|:rw] ...
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guard.h"
#include "landlock.h"
#include "sxerr.h"

int
main(int argc, char *argv[])
{
	static struct guard g;
	static struct guard_cmd cmd;
	static char *env[] = { "PATH=/usr/bin:/bin", NULL };
	struct ll_rule rule[GUARD_RULES_MAX];
	struct sxerr e;
	const char *oc;
	size_t i, n;
	int ch, dry = 0;

	guard_init(&g);
	while ((ch = getopt(argc, argv, "nr:")) != -1) {
		switch (ch) {
		case 'n':
			dry = 1;
			break;
		case 'r':
			if (guard_add_root(&g, optarg, &e) == -1)
				errx(e.ex, "%s", e.msg);
			break;
		default:
			errx(64, "usage: llexec [-n] -r dir[:ro|:rw] ...");
		}
	}
	if (g.nroot == 0 || (oc = getenv("SSH_ORIGINAL_COMMAND")) == NULL)
		errx(64, "usage: llexec [-n] -r dir[:ro|:rw] ...");
	if (guard_split(oc, strlen(oc), &cmd, &e) == -1)
		errx(e.ex, "%s", e.msg);
	if (cmd.nword == 0)
		errx(64, "empty command");
	if (strcmp(cmd.word[0], "scp") == 0)
		cmd.prog = GUARD_SCP;
	else if (strcmp(cmd.word[0], "rsync") == 0)
		cmd.prog = GUARD_RSYNC;
	else
		errx(64, "%s: only scp and rsync", cmd.word[0]);
	for (i = 0; i < cmd.nword; i++)
		cmd.argv[i] = cmd.word[i];
	cmd.argv[i] = NULL;
	cmd.argc = i;
	if (dry) {
		printf("landlock only:");
		for (i = 0; i < cmd.argc; i++)
			printf(" %s", cmd.argv[i]);
		printf("\n");
		return 0;
	}
	if (chdir(g.root[0].path) == -1)
		err(71, "chdir %s", g.root[0].path);
	n = guard_rules(&g, &cmd, rule, GUARD_RULES_MAX);
	if (landlock_no_new_privs(&e) == -1 ||
	    landlock_confine(rule, n, &e) == -1)
		errx(e.ex, "%s", e.msg);
	execve(cmd.prog, (char *const *)cmd.argv, env);
	err(71, "%s", cmd.prog);
}
