/* SPDX-License-Identifier: AGPL-3.0-only */
/*
 * The kernel layer on its own, each case in a child of its own (a
 * Landlock domain cannot be left): execute only where LL_RX says so, no
 * new privileges, nothing named nothing reached, no TCP (ABI 4).
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "landlock.h"

static char top[] = "/tmp/landlock-unit-XXXXXX";
static char ro[64], rx[64];

static int
setup(void **state)
{
	char p[128];
	int fd;

	if (mkdtemp(top) == NULL)
		return -1;
	snprintf(ro, sizeof(ro), "%s/ro", top);
	snprintf(rx, sizeof(rx), "%s/rx", top);
	if (mkdir(ro, 0700) == -1 || mkdir(rx, 0700) == -1)
		return -1;
	/* the same tiny program in both: exit 7 */
	snprintf(p, sizeof(p), "%s/prog", ro);
	if ((fd = open(p, O_WRONLY | O_CREAT, 0700)) == -1 ||
	    write(fd, "#!/bin/sh\nexit 7\n", 17) != 17 || close(fd) == -1)
		return -1;
	snprintf(p, sizeof(p), "%s/prog", rx);
	if ((fd = open(p, O_WRONLY | O_CREAT, 0700)) == -1 ||
	    write(fd, "#!/bin/sh\nexit 7\n", 17) != 17 || close(fd) == -1)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/prog", ro);
	unlink(p);
	snprintf(p, sizeof(p), "%s/prog", rx);
	unlink(p);
	rmdir(ro);
	rmdir(rx);
	return rmdir(top);
}

/* fn's status when run in a child; -1 when it did not exit. */
static int
in_child(int (*fn)(void))
{
	pid_t pid;
	int st;

	if ((pid = fork()) == 0)
		_exit(fn());
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* 7 when path ran, 100 + errno when it could not be run. */
static int
run(const char *path)
{
	pid_t pid;
	int st;

	if ((pid = fork()) == 0) {
		execl(path, path, (char *)NULL);
		_exit(100 + errno);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static int
exec_child(void)
{
	struct ll_rule r[] = {
		{ "/bin", LL_RX, 1 }, { "/usr", LL_RX, 1 },
		{ "/lib", LL_RO, 1 }, { "/lib64", LL_RO, 1 },
		{ ro, LL_RO, 0 }, { rx, LL_RX, 0 },
	};
	char p[128];
	struct sxerr e;

	if (landlock_no_new_privs(&e) == -1 ||
	    landlock_confine(r, sizeof(r) / sizeof(r[0]), &e) == -1)
		return 10;
	snprintf(p, sizeof(p), "%s/prog", rx);
	if (run(p) != 7)
		return 11;
	snprintf(p, sizeof(p), "%s/prog", ro);
	if (run(p) != 100 + EACCES)
		return 12;
	return 0;
}

static void
t_exec(void **state)
{
	if (landlock_abi() < 1)
		skip();
	assert_int_equal(in_child(exec_child), 0);
}

static int
nnp_child(void)
{
	struct sxerr e;

	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 0)
		return 10;
	if (landlock_no_new_privs(&e) == -1)
		return 11;
	return prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 ? 0 : 12;
}

static void
t_no_new_privs(void **state)
{
	assert_int_equal(in_child(nnp_child), 0);
}

/* No rule: not even / can be listed, nothing read. */
static int
none_child(void)
{
	struct sxerr e;

	if (landlock_no_new_privs(&e) == -1 ||
	    landlock_confine(NULL, 0, &e) == -1)
		return 10;
	if (open("/", O_RDONLY | O_DIRECTORY) != -1 || errno != EACCES)
		return 11;
	if (open(top, O_RDONLY | O_DIRECTORY) != -1 || errno != EACCES)
		return 12;
	return 0;
}

static void
t_nothing(void **state)
{
	if (landlock_abi() < 1)
		skip();
	assert_int_equal(in_child(none_child), 0);
}

/* ABI 4 and up: no class grants TCP, so no bind and no connect. */
static int
tcp_child(void)
{
	struct ll_rule r = { ro, LL_RO, 0 };
	struct sockaddr_in sa;
	struct sxerr e;
	int fd;

	if (landlock_no_new_privs(&e) == -1 ||
	    landlock_confine(&r, 1, &e) == -1)
		return 10;
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return 11;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(1);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != -1 ||
	    errno != EACCES)
		return 12;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != -1 ||
	    errno != EACCES)
		return 13;
	close(fd);
	return 0;
}

static void
t_tcp(void **state)
{
	if (landlock_abi() < 4)
		skip();
	assert_int_equal(in_child(tcp_child), 0);
}

static void
t_abi(void **state)
{
	int abi = landlock_abi();

	/* -1 or 0: none here; else the version the kernel speaks */
	assert_true(abi >= -1);
	assert_int_equal(landlock_abi(), abi);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_abi),
		cmocka_unit_test(t_no_new_privs),
		cmocka_unit_test(t_exec),
		cmocka_unit_test(t_nothing),
		cmocka_unit_test(t_tcp),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
