/* SPDX-License-Identifier: AGPL-3.0-only */
/*
 * Test harness, never installed: run a program as on a kernel without
 * Landlock. A seccomp filter makes landlock_create_ruleset, landlock_add_rule
 * and landlock_restrict_self fail with ENOSYS, for the program and
 * everything it executes; then argv[1] is executed with the rest.
 *
 *	nolandlock program [argument ...]
 */
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <err.h>
#include <errno.h>
#include <stddef.h>
#include <unistd.h>

#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset	444
#define __NR_landlock_restrict_self	446
#endif

int
main(int argc, char *argv[])
{
	struct sock_filter f[] = {
		/* only the native calling convention is filtered */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K,
		    __NR_landlock_create_ruleset, 0, 2),
		BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K,
		    __NR_landlock_restrict_self, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog p = { sizeof(f) / sizeof(f[0]), f };

	if (argc < 2)
		errx(64, "usage: nolandlock program [argument ...]");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		err(71, "prctl: no_new_privs");
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &p) == -1)
		err(71, "prctl: seccomp");
	execvp(argv[1], argv + 1);
	err(71, "%s", argv[1]);
}
