/* SPDX-License-Identifier: AGPL-3.0-only */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "landlock.h"

/*
 * Our own copies of the uapi structures and bits: the build machine's
 * <linux/landlock.h> may predate the ABI the running kernel offers, and
 * the kernel takes a larger attribute struct as long as the tail is zero.
 */
#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset	444
#define __NR_landlock_add_rule		445
#define __NR_landlock_restrict_self	446
#endif

#define LL_CREATE_VERSION	(1U << 0)
#define LL_RULE_PATH_BENEATH	1

#define FS_EXECUTE	(1ULL << 0)
#define FS_WRITE_FILE	(1ULL << 1)
#define FS_READ_FILE	(1ULL << 2)
#define FS_READ_DIR	(1ULL << 3)
#define FS_REMOVE_DIR	(1ULL << 4)
#define FS_REMOVE_FILE	(1ULL << 5)
#define FS_MAKE_CHAR	(1ULL << 6)
#define FS_MAKE_DIR	(1ULL << 7)
#define FS_MAKE_REG	(1ULL << 8)
#define FS_MAKE_SOCK	(1ULL << 9)
#define FS_MAKE_FIFO	(1ULL << 10)
#define FS_MAKE_BLOCK	(1ULL << 11)
#define FS_MAKE_SYM	(1ULL << 12)
#define FS_REFER	(1ULL << 13)	/* ABI 2 */
#define FS_TRUNCATE	(1ULL << 14)	/* ABI 3 */
#define FS_IOCTL_DEV	(1ULL << 15)	/* ABI 5 */
#define NET_BIND_TCP	(1ULL << 0)	/* ABI 4 */
#define NET_CONNECT_TCP	(1ULL << 1)
#define SCOPE_ABSTRACT_UNIX	(1ULL << 0)	/* ABI 6 */
#define SCOPE_SIGNAL	(1ULL << 1)

#define FS_RO	(FS_READ_FILE | FS_READ_DIR)
#define FS_RX	(FS_RO | FS_EXECUTE)
/* No device nodes, ever: a block device in a share is a way out. */
#define FS_RW	(FS_RO | FS_WRITE_FILE | FS_REMOVE_DIR | FS_REMOVE_FILE | \
		FS_MAKE_DIR | FS_MAKE_REG | FS_MAKE_SOCK | FS_MAKE_FIFO | \
		FS_MAKE_SYM | FS_REFER | FS_TRUNCATE)
/* The rights that mean something on a file that is not a directory. */
#define FS_FILE	(FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | \
		FS_TRUNCATE | FS_IOCTL_DEV)

struct ll_ruleset_attr {
	uint64_t	fs;
	uint64_t	net;
	uint64_t	scoped;
};

struct ll_path_beneath {
	uint64_t	allowed;
	int32_t		parent_fd;
} __attribute__((packed));

/* The Landlock ABI version of the running kernel, or 0 when there is none. */
int
landlock_abi(void)
{
	long v;

	v = syscall(__NR_landlock_create_ruleset, NULL, 0, LL_CREATE_VERSION);
	return v < 0 ? 0 : (int)v;
}

static uint64_t
handled_fs(int abi)
{
	uint64_t m = (FS_MAKE_SYM << 1) - 1;

	if (abi >= 2)
		m |= FS_REFER;
	if (abi >= 3)
		m |= FS_TRUNCATE;
	if (abi >= 5)
		m |= FS_IOCTL_DEV;
	return m;
}

static uint64_t
class_rights(enum ll_access a)
{
	switch (a) {
	case LL_RW:
		return FS_RW;
	case LL_RX:
		return FS_RX;
	case LL_RO:
	default:
		return FS_RO;
	}
}

static int
add_rule(int rfd, const struct ll_rule *r, uint64_t handled, struct sxerr *e)
{
	struct ll_path_beneath pb;
	struct stat st;
	int fd, rc;

	if ((fd = open(r->path, O_PATH | O_CLOEXEC)) == -1) {
		if (r->optional && (errno == ENOENT || errno == ENOTDIR))
			return 0;
		return sxerr_errno(e, EX_OSERR, "landlock: %s", r->path);
	}
	if (fstat(fd, &st) == -1) {
		close(fd);
		return sxerr_errno(e, EX_OSERR, "landlock: %s", r->path);
	}
	memset(&pb, 0, sizeof(pb));
	pb.allowed = class_rights(r->access) & handled;
	if (!S_ISDIR(st.st_mode))
		pb.allowed &= FS_FILE;
	pb.parent_fd = fd;
	rc = syscall(__NR_landlock_add_rule, rfd, LL_RULE_PATH_BENEATH, &pb, 0);
	close(fd);
	if (rc == -1)
		return sxerr_errno(e, EX_OSERR, "landlock: rule for %s",
		    r->path);
	return 0;
}

/*
 * Restrict this process (and what it executes) to the rules, with every
 * right the kernel knows handled. The caller has set no_new_privs.
 * Returns -1 with EX_UNAVAILABLE when the kernel has no Landlock.
 */
int
landlock_confine(const struct ll_rule *rule, size_t n, struct sxerr *e)
{
	struct ll_ruleset_attr attr;
	size_t i;
	int abi, rfd;

	if ((abi = landlock_abi()) < 1)
		return sxerr_set(e, EX_UNAVAILABLE,
		    "landlock: not offered by this kernel");
	memset(&attr, 0, sizeof(attr));
	attr.fs = handled_fs(abi);
	if (abi >= 4)
		attr.net = NET_BIND_TCP | NET_CONNECT_TCP;
	if (abi >= 6)
		attr.scoped = SCOPE_ABSTRACT_UNIX | SCOPE_SIGNAL;
	rfd = syscall(__NR_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (rfd == -1)
		return sxerr_errno(e, EX_OSERR, "landlock: create ruleset");
	for (i = 0; i < n; i++) {
		if (add_rule(rfd, &rule[i], attr.fs, e) == -1) {
			close(rfd);
			return -1;
		}
	}
	if (syscall(__NR_landlock_restrict_self, rfd, 0) == -1) {
		close(rfd);
		return sxerr_errno(e, EX_OSERR, "landlock: restrict self");
	}
	close(rfd);
	return 0;
}

/* No set-uid or file capability gain across exec, ever after. */
int
landlock_no_new_privs(struct sxerr *e)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return sxerr_errno(e, EX_OSERR, "prctl: no_new_privs");
	return 0;
}
