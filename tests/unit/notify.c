/* SPDX-License-Identifier: AGPL-3.0-only */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

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

#include "notify.h"

static char dir[] = "/tmp/notify-unit.XXXXXX";

static int
setup(void **state)
{
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/notify", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/stderr", dir);
	unlink(path);
	return rmdir(dir);
}

/* A datagram socket bound to name (a path, or @abstract). */
static int
listener(const char *name)
{
	struct sockaddr_un sa;
	size_t len = strlen(name);
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, name, len);
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	assert_true((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa,
	    offsetof(struct sockaddr_un, sun_path) + len), 0);
	return fd;
}

static void
received(int fd, const char *want)
{
	char buf[512];
	ssize_t n;

	n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	assert_true(n >= 0);
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

static void
test_send_path(void **state)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/notify", dir);
	fd = listener(path);
	setenv("NOTIFY_SOCKET", path, 1);
	assert_int_equal(notify_send("READY=1\nSTATUS=up"), 0);
	received(fd, "READY=1\nSTATUS=up");
	close(fd);
	unlink(path);
	unsetenv("NOTIFY_SOCKET");
}

static void
test_send_abstract(void **state)
{
	char name[64];
	int fd;

	snprintf(name, sizeof(name), "@scitex-notify-unit-%ld", (long)getpid());
	fd = listener(name);
	setenv("NOTIFY_SOCKET", name, 1);
	assert_int_equal(notify_send("STATUS=x"), 0);
	received(fd, "STATUS=x");
	close(fd);
	unsetenv("NOTIFY_SOCKET");
}

static void
test_send_none(void **state)
{
	char path[128];

	/* nobody to tell: not an error */
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(notify_send("READY=1"), 0);
	setenv("NOTIFY_SOCKET", "", 1);
	assert_int_equal(notify_send("READY=1"), 0);
	/* a relative name, a name alone, nobody listening: not sent */
	setenv("NOTIFY_SOCKET", "rel/sock", 1);
	assert_int_equal(notify_send("READY=1"), -1);
	setenv("NOTIFY_SOCKET", "@", 1);
	assert_int_equal(notify_send("READY=1"), -1);
	snprintf(path, sizeof(path), "%s/nobody", dir);
	setenv("NOTIFY_SOCKET", path, 1);
	assert_int_equal(notify_send("READY=1"), -1);
	unsetenv("NOTIFY_SOCKET");
}

static void
test_fmt(void **state)
{
	struct tunnel t;
	struct tstate st;
	struct forward f;
	struct sxerr e;
	char buf[512];

	tunnel_init(&t, "labbox");
	assert_int_equal(tunnel_parse_forward("R 2222:localhost:22", &t.fwd[0],
	    &e), 0);
	assert_int_equal(tunnel_parse_forward("R 2223:localhost:80", &t.fwd[1],
	    &e), 0);
	assert_int_equal(tunnel_parse_forward("L 8080:localhost:80", &f, &e),
	    0);
	t.fwd[2] = f;
	t.nfwd = 3;
	memset(&st, 0, sizeof(st));
	strlcpy(st.bastion, "u@gw.example.org", sizeof(st.bastion));
	strlcpy(st.state, "up", sizeof(st.state));
	assert_int_equal(notify_fmt(&st, &t, 0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "READY=1\nSTATUS=up via u@gw.example.org, "
	    "2222 2223 forwarded");
	strlcpy(st.state, "backoff", sizeof(st.state));
	strlcpy(st.reason, "auth", sizeof(st.reason));
	assert_int_equal(notify_fmt(&st, &t, 3200, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "STATUS=backoff 4 s: auth via "
	    "u@gw.example.org");
	strlcpy(st.state, "connecting", sizeof(st.state));
	assert_int_equal(notify_fmt(&st, &t, 0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "STATUS=connecting via u@gw.example.org "
	    "(auth)");
	strlcpy(st.state, "stopped", sizeof(st.state));
	assert_int_equal(notify_fmt(&st, &t, 0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "STOPPING=1\nSTATUS=stopped");
	/* only local forwards: those are the ports */
	t.fwd[0] = f;
	t.nfwd = 1;
	strlcpy(st.state, "up", sizeof(st.state));
	assert_int_equal(notify_fmt(&st, &t, 0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "READY=1\nSTATUS=up via u@gw.example.org, "
	    "8080 forwarded");
	assert_int_equal(notify_fmt(&st, &t, 0, buf, 10), -1);
}

static void
test_journal(void **state)
{
	char path[128], v[64];
	struct stat st;
	int fd, saved;

	unsetenv("JOURNAL_STREAM");
	assert_int_equal(notify_journal(), 0);
	snprintf(path, sizeof(path), "%s/stderr", dir);
	assert_true((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0);
	assert_true((saved = dup(2)) >= 0);
	assert_int_equal(dup2(fd, 2), 2);
	assert_int_equal(fstat(2, &st), 0);
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", v, 1);
	assert_int_equal(notify_journal(), 1);
	/* inherited by a child whose stderr went elsewhere: not the journal */
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino + 1);
	setenv("JOURNAL_STREAM", v, 1);
	assert_int_equal(notify_journal(), 0);
	setenv("JOURNAL_STREAM", "garbage", 1);
	assert_int_equal(notify_journal(), 0);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	close(fd);
	unlink(path);
	unsetenv("JOURNAL_STREAM");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_send_path),
		cmocka_unit_test(test_send_abstract),
		cmocka_unit_test(test_send_none),
		cmocka_unit_test(test_fmt),
		cmocka_unit_test(test_journal),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
