/* SPDX-License-Identifier: AGPL-3.0-only */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "guard.h"
#include "sftp.h"

/*
 * The sftp request filter, one request type at a time, on a real tree:
 * ro/ (read-only root), rw/ (read-write root), out/ (outside), and links
 * in rw/ that lead out, absolute and relative.
 */
static char dir[] = "/tmp/scitex-sftp-XXXXXX";
static char p1[512], p2[512];
static struct guard g;
static struct sftp f;
static struct sftp_buf srv, cli;
static uint32_t nextid;

enum { PASS = -1, REWRITE = -2, FATAL = -3 };

/* A packet under construction (without its length). */
struct pk {
	unsigned char	b[16384];
	size_t		n;
};

static void
u8(struct pk *p, unsigned v)
{
	p->b[p->n++] = (unsigned char)v;
}

static void
u32(struct pk *p, uint32_t v)
{
	u8(p, v >> 24), u8(p, v >> 16), u8(p, v >> 8), u8(p, v);
}

static void
u64(struct pk *p, uint64_t v)
{
	u32(p, (uint32_t)(v >> 32)), u32(p, (uint32_t)v);
}

static void
str(struct pk *p, const void *s, size_t n)
{
	u32(p, (uint32_t)n);
	memcpy(p->b + p->n, s, n);
	p->n += n;
}

static void
cstr(struct pk *p, const char *s)
{
	str(p, s, strlen(s));
}

/* A path below the test directory. */
static char *
P(char *buf, const char *rel)
{
	snprintf(buf, 512, "%s/%s", dir, rel);
	return buf;
}

static struct pk *
begin(int type)
{
	static struct pk p;

	p.n = 0;
	u8(&p, type);
	u32(&p, ++nextid);
	return &p;
}

static uint32_t
be32(const unsigned char *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
}

static char lastmsg[256], lastpath[1024];

/*
 * Send p to the filter: PASS, REWRITE (the rewritten request's first
 * string in lastpath), FATAL, or the status the filter answered with.
 * A forwarded request is answered by a fake server with OK (or a HANDLE
 * numbered h for an open), so the line stays short.
 */
static int
send_as(struct pk *p, uint32_t h)
{
	struct sxerr e;
	int pass, kind;
	struct pk a;
	uint32_t n;

	srv.len = cli.len = 0;
	if (sftp_client(&f, p->b, p->n, &srv, &pass, &e) == -1)
		return FATAL;
	kind = pass ? PASS : srv.len > 0 ? REWRITE : 0;
	if (kind == REWRITE) {
		n = be32(srv.p + 9);
		snprintf(lastpath, sizeof(lastpath), "%.*s", (int)n,
		    srv.p + 13);
	}
	if (kind != 0) {
		/* the fake server's answer */
		a.n = 0;
		if ((p->b[0] == 3 || p->b[0] == 11) && h != UINT32_MAX) {
			u8(&a, 102);
			u32(&a, nextid);
			u32(&a, 4);
			u32(&a, h);
		} else {
			u8(&a, 101);
			u32(&a, nextid);
			u32(&a, p->b[0] == 3 || p->b[0] == 11 ? 2 : 0);
			cstr(&a, "");
			cstr(&a, "");
		}
		if (sftp_server(&f, a.b, a.n, &cli, &pass, &e) == -1 || !pass)
			return FATAL;
		return kind;
	}
	assert_int_equal(sftp_local(&f, &cli), 1);
	assert_int_equal(cli.p[4], 101);
	assert_int_equal(be32(cli.p + 5), nextid);
	n = be32(cli.p + 13);
	snprintf(lastmsg, sizeof(lastmsg), "%.*s", (int)n, cli.p + 17);
	return (int)be32(cli.p + 9);
}

static int
send_pk(struct pk *p)
{
	return send_as(p, UINT32_MAX);
}

/* One-path requests: type, path, maybe attributes. */
static int
path_req(int type, const char *path)
{
	struct pk *p = begin(type);

	cstr(p, path);
	if (type == 9 || type == 14)
		u32(p, 0);
	return send_pk(p);
}

static int
attr_req(int type, const char *ext, const char *path, uint32_t fl,
    uint32_t perm)
{
	struct pk *p = begin(type);

	if (ext != NULL)
		cstr(p, ext);
	cstr(p, path);
	u32(p, fl);
	if (fl & 2)
		u32(p, 1000), u32(p, 1000);
	if (fl & 4)
		u32(p, perm);
	if (fl & 8)
		u32(p, 0), u32(p, 0);
	return send_pk(p);
}

static int
two_req(int type, const char *ext, const char *a, const char *b)
{
	struct pk *p = begin(type);

	if (ext != NULL)
		cstr(p, ext);
	cstr(p, a);
	cstr(p, b);
	return send_pk(p);
}

static int
open_req(const char *path, uint32_t flags, uint32_t h)
{
	struct pk *p = begin(3);

	cstr(p, path);
	u32(p, flags);
	u32(p, 0);
	return send_as(p, h);
}

static int
handle_req(int type, const char *ext, uint32_t h, size_t extra)
{
	struct pk *p = begin(type);
	size_t i;

	if (ext != NULL)
		cstr(p, ext);
	u32(p, 4);
	u32(p, h);
	for (i = 0; i < extra; i++)
		u8(p, 0);
	return send_pk(p);
}

static void
mkfile(const char *rel)
{
	FILE *fp;

	assert_non_null(fp = fopen(P(p1, rel), "w"));
	fputs("x\n", fp);
	fclose(fp);
}

static void
init_session(void)
{
	struct pk p;
	struct sxerr e;
	int pass;

	sftp_free(&f);
	sftp_init(&f, &g, NULL, NULL);
	p.n = 0;
	u8(&p, 1);
	u32(&p, 3);
	srv.len = cli.len = 0;
	assert_int_equal(sftp_client(&f, p.b, p.n, &srv, &pass, &e), 0);
	assert_true(pass);
	p.n = 0;
	u8(&p, 2);
	u32(&p, 3);
	assert_int_equal(sftp_server(&f, p.b, p.n, &cli, &pass, &e), 0);
}

static int
setup(void **state)
{
	struct sxerr e;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(mkdir(P(p1, "ro"), 0755), 0);
	assert_int_equal(mkdir(P(p1, "ro/sub"), 0755), 0);
	assert_int_equal(mkdir(P(p1, "rw"), 0755), 0);
	assert_int_equal(mkdir(P(p1, "rw/wd"), 0755), 0);
	assert_int_equal(mkdir(P(p1, "rw/tree"), 0755), 0);
	assert_int_equal(mkdir(P(p1, "rw/tree/a"), 0755), 0);
	assert_int_equal(mkdir(P(p1, "rw/flat"), 0755), 0);
	assert_int_equal(mkdir(P(p1, "out"), 0755), 0);
	mkfile("ro/f");
	mkfile("rw/w");
	mkfile("out/secret");
	assert_int_equal(symlink(P(p1, "out"), P(p2, "rw/esc")), 0);
	assert_int_equal(symlink("../out/secret", P(p2, "rw/rel")), 0);
	assert_int_equal(symlink("../../../out", P(p2, "rw/tree/a/up")), 0);
	assert_int_equal(symlink("a/b", P(p2, "rw/flat/down")), 0);
	assert_int_equal(symlink(P(p1, "rw/w"), P(p2, "rw/flat/abs")), 0);
	guard_init(&g);
	assert_int_equal(guard_add_root(&g, strcat(P(p1, "ro"), ":ro"), &e),
	    0);
	assert_int_equal(guard_add_root(&g, strcat(P(p1, "rw"), ":rw"), &e),
	    0);
	assert_int_equal(sftp_buf_init(&srv, 0), 0);
	assert_int_equal(sftp_buf_init(&cli, 0), 0);
	sftp_init(&f, &g, NULL, NULL);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[600];

	sftp_free(&f);
	sftp_buf_free(&srv);
	sftp_buf_free(&cli);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_init(void **state)
{
	struct sxerr e;
	struct pk p;
	int pass;

	sftp_free(&f);
	sftp_init(&f, &g, NULL, NULL);
	/* nothing before INIT */
	assert_int_equal(path_req(17, P(p1, "ro/f")), FATAL);
	p.n = 0;
	u8(&p, 1);
	u32(&p, 3);
	cstr(&p, "ext@client");	/* INIT may carry extension data */
	cstr(&p, "1");
	assert_int_equal(sftp_client(&f, p.b, p.n, &srv, &pass, &e), 0);
	assert_true(pass);
	/* VERSION keeps what the filter allows, in the server's order */
	p.n = 0;
	u8(&p, 2);
	u32(&p, 3);
	cstr(&p, "posix-rename@openssh.com"), cstr(&p, "1");
	cstr(&p, "users-groups-by-id@openssh.com"), cstr(&p, "1");
	cstr(&p, "home-directory"), cstr(&p, "1");
	cstr(&p, "new-thing@openssh.com"), cstr(&p, "1");
	cstr(&p, "copy-data"), cstr(&p, "1");
	cli.len = 0;
	assert_int_equal(sftp_server(&f, p.b, p.n, &cli, &pass, &e), 0);
	assert_false(pass);
	assert_int_equal(be32(cli.p), cli.len - 4);
	assert_int_equal(cli.len, 4 + 5 + 4 + 24 + 4 + 1 + 4 + 9 + 4 + 1);
	assert_memory_equal(cli.p + 13, "posix-rename@openssh.com", 24);
	assert_memory_equal(cli.p + 46, "copy-data", 9);
	/* a second INIT ends the session */
	p.n = 0;
	u8(&p, 1);
	u32(&p, 3);
	assert_int_equal(sftp_client(&f, p.b, p.n, &srv, &pass, &e), -1);
	assert_int_equal(e.ex, EX_DATAERR);
}

static void
test_open(void **state)
{
	init_session();
	assert_int_equal(open_req(P(p1, "ro/f"), 1, 0), REWRITE);
	assert_string_equal(lastpath, P(p1, "ro/f"));
	/* relative to the first root, ".." resolved */
	assert_int_equal(open_req("sub/../f", 1, 1), REWRITE);
	assert_string_equal(lastpath, P(p1, "ro/f"));
	assert_int_equal(open_req(P(p1, "ro/f"), 2, 2), 3);
	assert_string_equal(lastmsg, "in a read-only root");
	assert_int_equal(open_req(P(p1, "ro/f"), 1 | 0x10, 2), 3);
	assert_int_equal(open_req(P(p1, "ro/new"), 8, 2), 3);
	assert_int_equal(open_req(P(p1, "out/secret"), 1, 2), 3);
	assert_string_equal(lastmsg, "outside the copy roots");
	assert_int_equal(open_req(P(p1, "rw/esc/secret"), 1, 2), 3);
	assert_int_equal(open_req(P(p1, "rw/rel"), 1, 2), 3);
	assert_int_equal(open_req("/etc/passwd", 1, 2), 3);
	assert_int_equal(open_req(P(p1, "rw/esc/new"), 2 | 8, 2), 3);
	assert_int_equal(open_req(P(p1, "rw/new"), 2 | 8 | 0x10, 2), REWRITE);
	assert_int_equal(open_req(P(p1, "rw/w"), 1 | 0x40, 3), 3);
	assert_string_equal(lastmsg, "unknown open flags");
	/* a failed open leaves no handle behind */
	assert_int_equal(open_req(P(p1, "rw/w"), 1, UINT32_MAX), REWRITE);
	assert_int_equal(handle_req(8, NULL, 3, 0), 4);
}

static void
test_open_attrs(void **state)
{
	struct pk *p;

	init_session();
	p = begin(3);
	cstr(p, P(p1, "rw/n1"));
	u32(p, 2 | 8);
	u32(p, 4);
	u32(p, 04755);
	assert_int_equal(send_pk(p), 3);
	assert_string_equal(lastmsg, "set-id and sticky bits are not allowed");
	p = begin(3);
	cstr(p, P(p1, "rw/n1"));
	u32(p, 2 | 8);
	u32(p, 2);
	u32(p, 0), u32(p, 0);
	assert_int_equal(send_pk(p), 3);
	assert_string_equal(lastmsg, "changing the owner is not allowed");
	/* a full st_mode with the file type bits is fine */
	p = begin(3);
	cstr(p, P(p1, "rw/n1"));
	u32(p, 2 | 8);
	u32(p, 4 | 0x80000000U);
	u32(p, 0100644);
	u32(p, 1);
	cstr(p, "k"), cstr(p, "v");
	assert_int_equal(send_as(p, 0), REWRITE);
}

static void
test_handles(void **state)
{
	init_session();
	assert_int_equal(open_req(P(p1, "ro/f"), 1, 0), REWRITE);	/* 0 */
	assert_int_equal(open_req(P(p1, "rw/w"), 3, 1), REWRITE);	/* 1 */
	{
		struct pk *p = begin(11);

		cstr(p, P(p1, "rw"));
		assert_int_equal(send_as(p, 2), REWRITE);		/* 2 */
	}
	/* read */
	assert_int_equal(handle_req(5, NULL, 0, 12), PASS);
	assert_int_equal(handle_req(5, NULL, 2, 12), 3);
	assert_int_equal(handle_req(5, NULL, 9, 12), 4);
	assert_int_equal(handle_req(5, NULL, 0, 11), FATAL);
}

static void
test_handles_write(void **state)
{
	struct pk *p;

	init_session();
	assert_int_equal(open_req(P(p1, "ro/f"), 1, 0), REWRITE);
	assert_int_equal(open_req(P(p1, "rw/w"), 2, 1), REWRITE);
	p = begin(6);
	u32(p, 4), u32(p, 1), u64(p, 0), cstr(p, "data");
	assert_int_equal(send_pk(p), PASS);
	p = begin(6);
	u32(p, 4), u32(p, 0), u64(p, 0), cstr(p, "data");
	assert_int_equal(send_pk(p), 3);
	assert_string_equal(lastmsg, "not open for writing");
	/* the data length must fill the packet exactly */
	p = begin(6);
	u32(p, 4), u32(p, 1), u64(p, 0), u32(p, 5), u8(p, 'x');
	assert_int_equal(send_pk(p), FATAL);
}

static void
test_handles_meta(void **state)
{
	struct pk *p;

	init_session();
	assert_int_equal(open_req(P(p1, "ro/f"), 1, 0), REWRITE);
	assert_int_equal(open_req(P(p1, "rw/w"), 1, 1), REWRITE);
	/* fstat, fstatvfs: any file handle */
	assert_int_equal(handle_req(8, NULL, 0, 0), PASS);
	assert_int_equal(handle_req(200, "fstatvfs@openssh.com", 0, 0), PASS);
	/* fsetstat: a file in a :rw root, even when open for reading */
	p = begin(10);
	u32(p, 4), u32(p, 0), u32(p, 4), u32(p, 0777);
	assert_int_equal(send_pk(p), 3);
	assert_string_equal(lastmsg, "in a read-only root");
	p = begin(10);
	u32(p, 4), u32(p, 1), u32(p, 4), u32(p, 0600);
	assert_int_equal(send_pk(p), PASS);
	p = begin(10);
	u32(p, 4), u32(p, 1), u32(p, 4), u32(p, 02755);
	assert_int_equal(send_pk(p), 3);
	p = begin(10);
	u32(p, 4), u32(p, 1), u32(p, 2), u32(p, 0), u32(p, 0);
	assert_int_equal(send_pk(p), 3);
	/* fsync: only a handle open for writing */
	assert_int_equal(handle_req(200, "fsync@openssh.com", 1, 0), 3);
}

static void
test_close(void **state)
{
	init_session();
	assert_int_equal(open_req(P(p1, "rw/w"), 2, 0), REWRITE);
	assert_int_equal(handle_req(4, NULL, 0, 0), PASS);
	/* forgotten at once, before the server's answer could reuse it */
	assert_int_equal(handle_req(6, NULL, 0, 12), 4);
	assert_int_equal(handle_req(5, NULL, 0, 12), 4);
	assert_int_equal(handle_req(4, NULL, 0, 0), 4);
	/* the number comes back for a read-only file: judged as that */
	assert_int_equal(open_req(P(p1, "ro/f"), 1, 0), REWRITE);
	{
		struct pk *p = begin(10);

		u32(p, 4), u32(p, 0), u32(p, 4), u32(p, 0777);
		assert_int_equal(send_pk(p), 3);
	}
}

static void
test_readdir(void **state)
{
	struct pk *p;

	init_session();
	p = begin(11);
	cstr(p, P(p1, "ro"));
	assert_int_equal(send_as(p, 5), REWRITE);
	assert_int_equal(handle_req(12, NULL, 5, 0), PASS);
	assert_int_equal(handle_req(8, NULL, 5, 0), 3);
	assert_int_equal(path_req(11, P(p1, "out")), 3);
	assert_int_equal(path_req(11, "/"), 3);
	assert_int_equal(path_req(11, P(p1, "rw/esc")), 3);
}

static void
test_copy_data(void **state)
{
	struct pk *p;

	init_session();
	assert_int_equal(open_req(P(p1, "ro/f"), 1, 0), REWRITE);
	assert_int_equal(open_req(P(p1, "rw/w"), 2, 1), REWRITE);
	p = begin(200);
	cstr(p, "copy-data");
	u32(p, 4), u32(p, 0), u64(p, 0), u64(p, 0), u32(p, 4), u32(p, 1);
	u64(p, 0);
	assert_int_equal(send_pk(p), PASS);
	p = begin(200);
	cstr(p, "copy-data");
	u32(p, 4), u32(p, 1), u64(p, 0), u64(p, 0), u32(p, 4), u32(p, 0);
	u64(p, 0);
	assert_int_equal(send_pk(p), 3);
	p = begin(200);
	cstr(p, "copy-data");
	u32(p, 4), u32(p, 1), u64(p, 0), u64(p, 0), u32(p, 4), u32(p, 1);
	u64(p, 0);
	assert_int_equal(send_pk(p), 4);
}

static void
test_stat(void **state)
{
	init_session();
	assert_int_equal(path_req(17, P(p1, "ro/f")), REWRITE);
	assert_int_equal(path_req(17, P(p1, "out/secret")), 3);
	assert_int_equal(path_req(17, "/etc/shadow"), 3);
	assert_int_equal(path_req(17, P(p1, "rw/esc")), 3);
	/* lstat and readlink look at the link itself */
	assert_int_equal(path_req(7, P(p1, "rw/esc")), REWRITE);
	assert_string_equal(lastpath, P(p1, "rw/esc"));
	assert_int_equal(path_req(19, P(p1, "rw/esc")), REWRITE);
	/* ... but a trailing slash follows it, as the kernel does */
	assert_int_equal(path_req(7, strcat(P(p1, "rw/esc"), "/")), 3);
	assert_int_equal(path_req(7, "/etc/passwd"), 3);
	assert_int_equal(path_req(19, "/proc/self/exe"), 3);
	assert_int_equal(path_req(16, "."), REWRITE);
	assert_string_equal(lastpath, P(p1, "ro"));
	assert_int_equal(path_req(16, ".."), 3);
	assert_int_equal(path_req(16, ""), REWRITE);
	assert_int_equal(attr_req(200, "statvfs@openssh.com", P(p1, "rw"), 0,
	    0), FATAL);		/* no attributes in statvfs */
	{
		struct pk *p = begin(200);

		cstr(p, "statvfs@openssh.com");
		cstr(p, P(p1, "rw"));
		assert_int_equal(send_pk(p), REWRITE);
		p = begin(200);
		cstr(p, "statvfs@openssh.com");
		cstr(p, P(p1, "out"));
		assert_int_equal(send_pk(p), 3);
	}
}

static void
test_bad_paths(void **state)
{
	struct pk *p;
	char big[5000];

	init_session();
	p = begin(17);
	str(p, "ro/f\0/etc/passwd", 16);
	assert_int_equal(send_pk(p), 3);
	assert_string_equal(lastmsg, "not a path");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(path_req(17, big), 3);
	assert_int_equal(path_req(17, P(p1, "rw/../out/secret")), 3);
	assert_int_equal(path_req(17, "../out/secret"), 3);
	assert_int_equal(path_req(17, P(p1, "ro/f/x")), 3);
}

static void
test_setstat(void **state)
{
	init_session();
	assert_int_equal(attr_req(9, NULL, P(p1, "rw/w"), 4, 0600), REWRITE);
	assert_int_equal(attr_req(9, NULL, P(p1, "rw/w"), 8, 0), REWRITE);
	assert_int_equal(attr_req(9, NULL, P(p1, "rw/w"), 4, 04755), 3);
	assert_int_equal(attr_req(9, NULL, P(p1, "rw/w"), 4, 01777), 3);
	assert_int_equal(attr_req(9, NULL, P(p1, "rw/w"), 2, 0), 3);
	assert_int_equal(attr_req(9, NULL, P(p1, "rw/w"), 0x40, 0), 3);
	assert_string_equal(lastmsg, "unknown attributes");
	assert_int_equal(attr_req(9, NULL, P(p1, "ro/f"), 4, 0644), 3);
	assert_int_equal(attr_req(9, NULL, P(p1, "ro/f"), 8, 0), 3);
	assert_int_equal(attr_req(9, NULL, P(p1, "out/secret"), 4, 0777), 3);
	assert_int_equal(attr_req(9, NULL, P(p1, "rw/esc"), 4, 0777), 3);
	assert_int_equal(attr_req(9, NULL, P(p1, "rw/rel"), 4, 0777), 3);
	/* lsetstat: the link itself */
	assert_int_equal(attr_req(200, "lsetstat@openssh.com", P(p1, "rw/esc"),
	    8, 0), REWRITE);
	assert_int_equal(attr_req(200, "lsetstat@openssh.com",
	    P(p1, "out/secret"), 4, 0777), 3);
	assert_int_equal(attr_req(200, "lsetstat@openssh.com", P(p1, "rw/w"),
	    2, 0), 3);
}

static void
test_entries(void **state)
{
	init_session();
	assert_int_equal(attr_req(14, NULL, P(p1, "rw/nd"), 4, 0755), REWRITE);
	assert_int_equal(attr_req(14, NULL, P(p1, "rw/nd"), 4, 01777), 3);
	assert_int_equal(attr_req(14, NULL, P(p1, "ro/nd"), 0, 0), 3);
	assert_int_equal(attr_req(14, NULL, P(p1, "rw/esc/nd"), 0, 0), 3);
	assert_int_equal(path_req(13, P(p1, "rw/w")), REWRITE);
	assert_int_equal(path_req(13, P(p1, "rw/esc")), REWRITE);
	assert_int_equal(path_req(13, P(p1, "rw/esc/secret")), 3);
	assert_int_equal(path_req(13, P(p1, "ro/f")), 3);
	assert_int_equal(path_req(15, P(p1, "rw/wd")), REWRITE);
	assert_int_equal(path_req(15, P(p1, "rw")), 3);
	assert_string_equal(lastmsg, "a copy root itself");
	assert_int_equal(path_req(15, P(p1, "rw/wd/..")), 3);
	assert_int_equal(path_req(15, P(p1, "ro/sub")), 3);
}

static void
test_rename(void **state)
{
	const char *pr = "posix-rename@openssh.com";

	init_session();
	assert_int_equal(two_req(18, NULL, P(p1, "rw/w"), P(p2, "rw/wd/w")),
	    REWRITE);
	assert_int_equal(two_req(200, pr, P(p1, "rw/w"), P(p2, "rw/w2")),
	    REWRITE);
	assert_int_equal(two_req(18, NULL, P(p1, "ro/f"), P(p2, "rw/f")), 3);
	assert_int_equal(two_req(18, NULL, P(p1, "rw/w"), P(p2, "ro/w")), 3);
	assert_int_equal(two_req(18, NULL, P(p1, "rw/w"), P(p2, "out/w")), 3);
	assert_int_equal(two_req(200, pr, P(p1, "rw"), P(p2, "rw2")), 3);
	/* a link that leads out, from where it would land */
	assert_int_equal(two_req(200, pr, P(p1, "rw/esc"), P(p2, "rw/e2")), 3);
	assert_int_equal(two_req(200, pr, P(p1, "rw/rel"), P(p2, "rw/r2")), 3);
	/* moved down, the relative link points inside: allowed */
	assert_int_equal(two_req(200, pr, P(p1, "rw/rel"), P(p2, "rw/wd/r")),
	    REWRITE);
	/* a directory holding a relative link that climbs */
	assert_int_equal(two_req(18, NULL, P(p1, "rw/tree"),
	    P(p2, "rw/wd/tree")), 3);
	assert_string_equal(lastmsg,
	    "holds a relative symbolic link that climbs out");
	/* links that only descend or are absolute inside: fine */
	assert_int_equal(two_req(18, NULL, P(p1, "rw/flat"),
	    P(p2, "rw/wd/flat")), REWRITE);
}

static void
test_hardlink(void **state)
{
	const char *hl = "hardlink@openssh.com";

	init_session();
	assert_int_equal(two_req(200, hl, P(p1, "rw/w"), P(p2, "rw/w3")),
	    REWRITE);
	assert_int_equal(two_req(200, hl, P(p1, "ro/f"), P(p2, "rw/f")), 3);
	assert_int_equal(two_req(200, hl, P(p1, "out/secret"), P(p2, "rw/s")),
	    3);
	assert_int_equal(two_req(200, hl, P(p1, "rw/esc"), P(p2, "rw/e")), 3);
}

static void
test_symlink(void **state)
{
	init_session();
	/* OpenSSH's order: target, then the link */
	assert_int_equal(two_req(20, NULL, "w", P(p2, "rw/l")), REWRITE);
	assert_string_equal(lastpath, P(p1, "rw/w"));
	assert_int_equal(two_req(20, NULL, "../ro/f", P(p2, "rw/l")),
	    REWRITE);
	assert_string_equal(lastpath, P(p1, "ro/f"));
	/* dangling inside is fine, made absolute */
	assert_int_equal(two_req(20, NULL, "later", P(p2, "rw/wd/l")),
	    REWRITE);
	assert_string_equal(lastpath, P(p1, "rw/wd/later"));
	assert_int_equal(two_req(20, NULL, "/etc/passwd", P(p2, "rw/l")), 3);
	assert_int_equal(two_req(20, NULL, "../out", P(p2, "rw/l")), 3);
	assert_int_equal(two_req(20, NULL, "esc/secret", P(p2, "rw/l")), 3);
	assert_int_equal(two_req(20, NULL, "", P(p2, "rw/l")), 3);
	assert_int_equal(two_req(20, NULL, "f", P(p2, "ro/l")), 3);
	assert_int_equal(two_req(20, NULL, "w", P(p2, "rw")), 3);
}

static void
test_extensions(void **state)
{
	struct pk *p;

	init_session();
	p = begin(200);
	cstr(p, "limits@openssh.com");
	assert_int_equal(send_pk(p), PASS);
	p = begin(200);
	cstr(p, "expand-path@openssh.com");
	cstr(p, "~");
	assert_int_equal(send_pk(p), REWRITE);
	p = begin(200);
	cstr(p, "expand-path@openssh.com");
	cstr(p, "~/sub");
	assert_int_equal(send_pk(p), REWRITE);
	p = begin(200);
	cstr(p, "expand-path@openssh.com");
	cstr(p, "~root/.ssh");
	assert_int_equal(send_pk(p), 3);
	p = begin(200);
	cstr(p, "expand-path@openssh.com");
	cstr(p, "/etc");
	assert_int_equal(send_pk(p), 3);
	p = begin(200);
	cstr(p, "home-directory");
	cstr(p, "");
	assert_int_equal(send_pk(p), 8);
	p = begin(200);
	cstr(p, "users-groups-by-id@openssh.com");
	str(p, "\0\0\0\0", 4);
	str(p, "", 0);
	assert_int_equal(send_pk(p), 8);
	p = begin(200);
	cstr(p, "no-such@example.com");
	assert_int_equal(send_pk(p), 8);
	p = begin(99);
	assert_int_equal(send_pk(p), 8);
}

static void
test_malformed(void **state)
{
	struct sxerr e;
	struct pk *p;
	int pass;

	init_session();
	p = begin(17);
	u32(p, 100);			/* string longer than the packet */
	assert_int_equal(send_pk(p), FATAL);
	init_session();
	p = begin(17);
	cstr(p, "f");
	u8(p, 0);			/* a byte too many */
	assert_int_equal(send_pk(p), FATAL);
	init_session();
	p = begin(18);
	cstr(p, "f");			/* rename without its second path */
	assert_int_equal(send_pk(p), FATAL);
	init_session();
	p = begin(9);
	cstr(p, P(p1, "rw/w"));
	u32(p, 0x80000000U);
	u32(p, 3);			/* three pairs promised, none there */
	assert_int_equal(send_pk(p), FATAL);
	init_session();
	p = begin(5);
	p->n = 3;			/* no id */
	assert_int_equal(send_pk(p), FATAL);
	init_session();
	assert_int_equal(sftp_client(&f, (unsigned char *)"", 0, &srv, &pass,
	    &e), -1);
	assert_int_equal(sftp_client(&f, srv.p, SFTP_MAX_MSG + 1, &srv, &pass,
	    &e), -1);
}

static void
test_server(void **state)
{
	struct sxerr e;
	struct pk a;
	int pass;

	init_session();
	/* an answer to nothing */
	a.n = 0;
	u8(&a, 101), u32(&a, 77), u32(&a, 0), cstr(&a, ""), cstr(&a, "");
	assert_int_equal(sftp_server(&f, a.b, a.n, &cli, &pass, &e), -1);
	/* out of order */
	init_session();
	srv.len = 0;
	{
		struct pk *p = begin(17);

		cstr(p, P(p1, "ro/f"));
		assert_int_equal(sftp_client(&f, p->b, p->n, &srv, &pass, &e),
		    0);
	}
	a.n = 0;
	u8(&a, 101), u32(&a, nextid + 1), u32(&a, 0), cstr(&a, "");
	cstr(&a, "");
	assert_int_equal(sftp_server(&f, a.b, a.n, &cli, &pass, &e), -1);
	/* a HANDLE that answers no open */
	init_session();
	{
		struct pk *p = begin(17);

		cstr(p, P(p1, "ro/f"));
		assert_int_equal(sftp_client(&f, p->b, p->n, &srv, &pass, &e),
		    0);
	}
	a.n = 0;
	u8(&a, 102), u32(&a, nextid), u32(&a, 4), u32(&a, 0);
	assert_int_equal(sftp_server(&f, a.b, a.n, &cli, &pass, &e), -1);
	/* a handle of the wrong size */
	init_session();
	assert_int_equal(open_req(P(p1, "ro/f"), 1, UINT32_MAX), REWRITE);
	{
		struct pk *p = begin(3);

		cstr(p, P(p1, "ro/f"));
		u32(p, 1), u32(p, 0);
		assert_int_equal(sftp_client(&f, p->b, p->n, &srv, &pass, &e),
		    0);
	}
	a.n = 0;
	u8(&a, 102), u32(&a, nextid), u32(&a, 8), u64(&a, 0);
	assert_int_equal(sftp_server(&f, a.b, a.n, &cli, &pass, &e), -1);
}

static void
test_order(void **state)
{
	struct sxerr e;
	struct pk *p, a;
	uint32_t first;
	int pass;

	init_session();
	srv.len = cli.len = 0;
	p = begin(17);
	cstr(p, P(p1, "ro/f"));
	assert_int_equal(sftp_client(&f, p->b, p->n, &srv, &pass, &e), 0);
	first = nextid;
	p = begin(17);
	cstr(p, "/etc/passwd");
	assert_int_equal(sftp_client(&f, p->b, p->n, &srv, &pass, &e), 0);
	/* the refusal waits for the answer before it */
	assert_int_equal(sftp_local(&f, &cli), 0);
	a.n = 0;
	u8(&a, 105), u32(&a, first), u32(&a, 0);
	assert_int_equal(sftp_server(&f, a.b, a.n, &cli, &pass, &e), 0);
	assert_true(pass);
	assert_int_equal(sftp_local(&f, &cli), 1);
	assert_int_equal(be32(cli.p + 5), nextid);
}

static void
test_busy(void **state)
{
	struct sxerr e;
	struct pk *p;
	int pass, i;

	init_session();
	for (i = 0; i < SFTP_QMAX; i++) {
		assert_false(sftp_busy(&f));
		srv.len = 0;
		p = begin(17);
		cstr(p, "/etc/passwd");
		assert_int_equal(sftp_client(&f, p->b, p->n, &srv, &pass, &e),
		    0);
	}
	assert_true(sftp_busy(&f));
	p = begin(17);
	cstr(p, "/etc/passwd");
	assert_int_equal(sftp_client(&f, p->b, p->n, &srv, &pass, &e), -1);
	cli.len = 0;
	while (sftp_local(&f, &cli) > 0)
		cli.len = 0;
	assert_false(sftp_busy(&f));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_open),
		cmocka_unit_test(test_open_attrs),
		cmocka_unit_test(test_handles),
		cmocka_unit_test(test_handles_write),
		cmocka_unit_test(test_handles_meta),
		cmocka_unit_test(test_close),
		cmocka_unit_test(test_readdir),
		cmocka_unit_test(test_copy_data),
		cmocka_unit_test(test_stat),
		cmocka_unit_test(test_bad_paths),
		cmocka_unit_test(test_setstat),
		cmocka_unit_test(test_entries),
		cmocka_unit_test(test_rename),
		cmocka_unit_test(test_hardlink),
		cmocka_unit_test(test_symlink),
		cmocka_unit_test(test_extensions),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_server),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_busy),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
