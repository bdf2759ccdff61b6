/* SPDX-License-Identifier: AGPL-3.0-only */
/* One descriptor over a unix socket; a byte without one is none. */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "fdpass.h"

static void
t_pass(void **st)
{
	int sp[2], p[2], got;
	char c;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(fdpass_send(sp[0], p[1], 0), 1);
	close(p[1]);
	assert_int_equal(fdpass_recv(sp[1], &got, 0), 1);
	assert_true(got >= 0);
	assert_true(fcntl(got, F_GETFD) & FD_CLOEXEC);
	/* The same pipe: written through what was received. */
	assert_int_equal(write(got, "x", 1), 1);
	assert_int_equal(read(p[0], &c, 1), 1);
	assert_int_equal(c, 'x');
	close(got);

	/* A byte with no descriptor: none. */
	assert_int_equal(write(sp[0], "y", 1), 1);
	assert_int_equal(fdpass_recv(sp[1], &got, 0), 1);
	assert_int_equal(got, -1);
	/* Nothing there: as recvmsg says. */
	assert_int_equal(fdpass_recv(sp[1], &got, MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(got, -1);
	/* The other end gone: 0. */
	close(sp[0]);
	assert_int_equal(fdpass_recv(sp[1], &got, 0), 0);
	/* Not a socket: refused. */
	assert_int_equal(fdpass_send(p[0], p[0], 0), -1);
	assert_int_equal(errno, ENOTSOCK);
	close(sp[1]);
	close(p[0]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_pass),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
