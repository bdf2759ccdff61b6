/* SPDX-License-Identifier: AGPL-3.0-only */
/* Connect slots: SLOT_MAX a bastion, a wait woken when one is let go. */
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fdpass.h"
#include "slots.h"

static void
test_take_give(void **state)
{
	unsigned long long key = slot_key("u@unit-test.example:22") ^
	    (unsigned long long)getpid();
	int fd[SLOT_MAX], one, w, i;
	struct pollfd p;

	assert_int_not_equal(key, slot_key("u@other.example:22"));
	for (i = 0; i < SLOT_MAX; i++)
		assert_int_equal(slot_take(key, (unsigned)i, &fd[i]), 0);
	assert_int_equal(slot_take(key, 0, &one), 1);
	assert_int_equal(one, -1);
	/* Another bastion's slots are its own. */
	assert_int_equal(slot_take(key + 1, 0, &one), 0);
	slot_give(&one);
	assert_int_equal(one, -1);

	/* Waiting on slot 5: quiet while held, woken when let go. */
	assert_true((w = slot_wait(key, 5)) >= 0);
	p.fd = w;
	p.events = POLLIN;
	assert_int_equal(poll(&p, 1, 50), 0);
	for (i = 0; i < SLOT_MAX; i++)
		if (i != 5)
			slot_give(&fd[i]);
	assert_int_equal(poll(&p, 1, 50), 0);
	slot_give(&fd[5]);
	assert_int_equal(poll(&p, 1, 1000), 1);
	close(w);
	/* Let go, nothing to wait on: no pacing rather than a wait. */
	assert_int_equal(slot_wait(key, 5), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(slot_take(key, 5, &one), 0);
	slot_give(&one);
}

/* w readable within ms. */
static int
woken(int w, int ms)
{
	struct pollfd p = { .fd = w, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

/*
 * Handed on: to the first waiter alone, the others asleep and in its
 * queue; past a waiter gone; free once none waits.
 */
static void
test_hand_on(void **state)
{
	unsigned long long key = slot_key("u@hand.example:22") ^
	    (unsigned long long)getpid();
	int fd, w1, w2, w3, got, again, other;

	assert_int_equal(slot_take(key, 3, &fd), 0);
	assert_true((w1 = slot_wait(key, 3)) >= 0);
	assert_true((w2 = slot_wait(key, 3)) >= 0);
	assert_true((w3 = slot_wait(key, 3)) >= 0);
	/* Nothing handed yet: nothing to receive, the watch ends. */
	other = dup(w3);
	assert_int_equal(slot_handed(&other, &got), 1);
	assert_int_equal(got, -1);
	assert_int_equal(other, -1);

	slot_give(&fd);
	assert_int_equal(fd, -1);
	assert_true(woken(w1, 1000));
	assert_false(woken(w2, 50));
	assert_int_equal(slot_handed(&w1, &got), 0);
	assert_int_equal(w1, -1);
	assert_true(got >= 0);
	/* Held by us still: a holder there to wait on. */
	assert_true((again = slot_wait(key, 3)) >= 0);
	close(again);

	/* w2 gone while waiting: w3 is next. */
	close(w2);
	slot_give(&got);
	assert_true(woken(w3, 1000));
	assert_int_equal(slot_handed(&w3, &got), 0);
	slot_give(&got);
	/* None waits: free. */
	assert_int_equal(slot_take(key, 3, &fd), 0);
	slot_give(&fd);
}

/* A waiter of another uid is passed over; it sees the slot go. */
static void
test_foreign_waiter(void **state)
{
	unsigned long long key = slot_key("u@foreign.example:22") ^
	    (unsigned long long)getpid();
	uid_t me = getuid();
	int fd, w, got, pfd[2], st;
	pid_t c;
	char b;

	if (geteuid() != 0)
		skip();
	assert_int_equal(slot_take(key, 1, &fd), 0);
	assert_int_equal(pipe(pfd), 0);
	if ((c = fork()) == 0) {
		struct sockaddr_un a;
		char one;
		int s, n;

		close(pfd[0]);
		if (setuid(65534) == -1)
			_exit(1);
		n = slot_name(me, key, 1, &a);
		if ((s = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
		    connect(s, (struct sockaddr *)&a, n) == -1 ||
		    write(pfd[1], "x", 1) != 1)
			_exit(1);
		/* The slot goes to the next: we are hung up, nothing sent. */
		_exit(read(s, &one, 1) <= 0 ? 0 : 2);
	}
	assert_true(c > 0);
	close(pfd[1]);
	assert_int_equal(read(pfd[0], &b, 1), 1);
	close(pfd[0]);
	assert_true((w = slot_wait(key, 1)) >= 0);
	slot_give(&fd);
	assert_true(woken(w, 1000));
	assert_int_equal(slot_handed(&w, &got), 0);
	slot_give(&got);
	assert_int_equal(waitpid(c, &st, 0), c);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/*
 * Handed something that is not one of our slots (a holder of our uid
 * gone wrong): refused, nothing kept.
 */
static void
test_handed_junk(void **state)
{
	unsigned long long key = slot_key("u@junk.example:22") ^
	    (unsigned long long)getpid();
	int fd, w, c, p[2], got;

	assert_int_equal(slot_take(key, 0, &fd), 0);
	assert_true((w = slot_wait(key, 0)) >= 0);
	assert_true((c = accept(fd, NULL, NULL)) >= 0);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(fdpass_send(c, p[0], 0), 1);
	assert_int_equal(slot_handed(&w, &got), 1);
	assert_int_equal(got, -1);
	close(p[0]);
	/* The pipe's only reader was the one refused: it was closed. */
	assert_int_equal(write(p[1], "x", 1), -1);
	assert_int_equal(errno, EPIPE);
	close(p[1]);
	close(c);
	slot_give(&fd);
}

/*
 * Another user binding our names (the abstract namespace has no owners)
 * ends our pacing instead of holding our tunnels back.
 */
static void
test_squatter(void **state)
{
	unsigned long long key = slot_key("u@squat.example:22") ^
	    (unsigned long long)getpid();
	uid_t me = getuid();
	int pfd[2], fd, st;
	pid_t c;
	char b;

	if (geteuid() != 0)
		skip();
	assert_int_equal(pipe(pfd), 0);
	if ((c = fork()) == 0) {
		struct sockaddr_un a;
		unsigned k;
		int s, n;

		close(pfd[0]);
		if (setuid(65534) == -1)
			_exit(1);
		for (k = 0; k < SLOT_MAX; k++) {
			n = slot_name(me, key, k, &a);
			/* Odd ones bound only, never listening. */
			if ((s = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
			    bind(s, (struct sockaddr *)&a, n) == -1 ||
			    (k % 2 == 0 && listen(s, 8) == -1))
				_exit(1);
		}
		if (write(pfd[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	assert_true(c > 0);
	close(pfd[1]);
	assert_int_equal(read(pfd[0], &b, 1), 1);
	close(pfd[0]);
	assert_int_equal(slot_take(key, 0, &fd), 1);
	assert_int_equal(slot_wait(key, 2), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(slot_wait(key, 3), -1);
	assert_int_equal(errno, EPERM);
	kill(c, SIGKILL);
	assert_int_equal(waitpid(c, &st, 0), c);
	/* Gone with it: ours to take. */
	assert_int_equal(slot_take(key, 0, &fd), 0);
	slot_give(&fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_take_give),
		cmocka_unit_test(test_hand_on),
		cmocka_unit_test(test_handed_junk),
		cmocka_unit_test(test_foreign_waiter),
		cmocka_unit_test(test_squatter),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
