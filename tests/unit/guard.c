/* SPDX-License-Identifier: AGPL-3.0-only */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "guard.h"
#include "landlock.h"

static char dir[] = "/tmp/scitex-guard-XXXXXX";
static char ro[256], rw[256], out[256];
static struct guard g;
static struct guard_cmd cmd;
static char got_path[1024];

static void
mk(const char *fmt, const char *arg)
{
	char p[512];

	snprintf(p, sizeof(p), fmt, dir, arg);
	assert_int_equal(mkdir(p, 0755), 0);
}

static void
ln(const char *target, const char *name)
{
	char t[512], p[512];

	snprintf(t, sizeof(t), target, dir);
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	assert_int_equal(symlink(t, p), 0);
}

static int
setup(void **state)
{
	struct sxerr e;
	char spec[300];
	FILE *fp;

	assert_non_null(mkdtemp(dir));
	snprintf(ro, sizeof(ro), "%s/ro", dir);
	snprintf(rw, sizeof(rw), "%s/rw", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	mk("%s/%s", "ro");
	mk("%s/%s", "ro/sub");
	mk("%s/%s", "rw");
	mk("%s/%s", "rw/ro-inside");
	mk("%s/%s", "ro/in");
	mk("%s/%s", "out");
	snprintf(spec, sizeof(spec), "%s/ro/f", dir);
	assert_non_null(fp = fopen(spec, "w"));
	fclose(fp);
	ln("%s/out", "rw/esc");		/* absolute, leads out */
	ln("../out", "rw/rel");		/* relative, leads out */
	ln("../ro", "rw/toro");		/* into the read-only root */
	ln("sub", "ro/insub");		/* stays inside */
	ln("loop", "rw/loop");
	ln("%s/ro/f", "rw/tofile");
	guard_init(&g);
	snprintf(spec, sizeof(spec), "%s:ro", ro);
	assert_int_equal(guard_add_root(&g, spec, &e), 0);
	snprintf(spec, sizeof(spec), "%s:rw", rw);
	assert_int_equal(guard_add_root(&g, spec, &e), 0);
	/* nested: a writable root inside a read-only one */
	snprintf(spec, sizeof(spec), "%s/ro/in:rw", dir);
	assert_int_equal(guard_add_root(&g, spec, &e), 0);
	/* the other way round the kernel could not keep it read-only */
	snprintf(spec, sizeof(spec), "%s/rw/ro-inside", dir);
	assert_int_equal(guard_add_root(&g, spec, &e), -1);
	assert_non_null(strstr(e.msg, "beneath read-write root"));
	return 0;
}

static int
teardown(void **state)
{
	char c[600];

	snprintf(c, sizeof(c), "rm -rf '%s'", dir);
	return system(c) == 0 ? 0 : -1;
}

static void
test_roots(void **state)
{
	struct guard t;
	struct sxerr e;
	char spec[300];

	guard_init(&t);
	assert_int_equal(guard_add_root(&t, "relative:rw", &e), -1);
	assert_int_equal(e.ex, EX_USAGE);
	snprintf(spec, sizeof(spec), "%s/nope", dir);
	assert_int_equal(guard_add_root(&t, spec, &e), -1);
	assert_int_equal(e.ex, EX_CONFIG);
	snprintf(spec, sizeof(spec), "%s/ro/f", dir);
	assert_int_equal(guard_add_root(&t, spec, &e), -1);
	assert_non_null(strstr(e.msg, "not a directory"));
	/* a symlinked root is stored as where it leads, default read-only */
	snprintf(spec, sizeof(spec), "%s/rw/toro/", dir);
	assert_int_equal(guard_add_root(&t, spec, &e), 0);
	assert_string_equal(t.root[0].path, ro);
	assert_int_equal(t.root[0].rw, 0);
	snprintf(spec, sizeof(spec), "%s:ro", ro);
	assert_int_equal(guard_add_root(&t, spec, &e), -1);
	assert_non_null(strstr(e.msg, "twice"));
	assert_string_equal(t.sftp_server, "/usr/lib/openssh/sftp-server");
}

/* Word splitting: what sh would make of it, or a refusal. */
static const struct { const char *in; int n; const char *w[4]; } words[] = {
	{ "a b  c", 3, { "a", "b", "c" } },
	{ "\ta\t", 1, { "a" } },
	{ "'a b' c", 2, { "a b", "c" } },
	{ "a\\ b", 1, { "a b" } },
	{ "\"a \\\"b\\\\\"", 1, { "a \"b\\" } },
	{ "\"a\\b\"", 1, { "a\\b" } },
	{ "''", 1, { "" } },
	{ "x'y'\"z\"", 1, { "xyz" } },
	{ "a\\$b", 1, { "a$b" } },
	{ "'$(id)'", 1, { "$(id)" } },
	{ "--log-format=%i", 1, { "--log-format=%i" } },
	{ "caf\xc3\xa9", 1, { "caf\xc3\xa9" } },
	{ "", 0, { NULL } },
	{ "a;b", -1, { NULL } }, { "a|b", -1, { NULL } },
	{ "a&b", -1, { NULL } }, { "a>b", -1, { NULL } },
	{ "a<b", -1, { NULL } }, { "$(id)", -1, { NULL } },
	{ "`id`", -1, { NULL } }, { "\"$x\"", -1, { NULL } },
	{ "\"`id`\"", -1, { NULL } }, { "a*", -1, { NULL } },
	{ "a?", -1, { NULL } }, { "[a]", -1, { NULL } },
	{ "~root", -1, { NULL } }, { "#x", -1, { NULL } },
	{ "{a,b}", -1, { NULL } }, { "!x", -1, { NULL } },
	{ "(x)", -1, { NULL } }, { "a\nb", -1, { NULL } },
	{ "a\rb", -1, { NULL } }, { "'a\nb'", -1, { NULL } },
	{ "a\\", -1, { NULL } }, { "'a", -1, { NULL } },
	{ "\"a", -1, { NULL } }, { "a\\\n", -1, { NULL } },
	{ "a\x7f", -1, { NULL } }, { "\x1b[0m", -1, { NULL } },
};

static void
test_split(void **state)
{
	struct sxerr e;
	size_t i;
	int j;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		int rc = guard_split(words[i].in, strlen(words[i].in), &cmd,
		    &e);

		if (words[i].n == -1) {
			if (rc != -1)
				fail_msg("case %zu accepted", i);
			assert_int_equal(e.ex, EX_NOPERM);
			continue;
		}
		if (rc != 0)
			fail_msg("case %zu: %s", i, e.msg);
		assert_int_equal((int)cmd.nword, words[i].n);
		for (j = 0; j < words[i].n; j++)
			assert_string_equal(cmd.word[j], words[i].w[j]);
	}
	/* NUL inside, too long, too many words */
	assert_int_equal(guard_split("a\0b", 3, &cmd, &e), -1);
	{
		static char big[GUARD_CMD_MAX + 2];

		memset(big, 'a', sizeof(big) - 1);
		assert_int_equal(guard_split(big, GUARD_CMD_MAX, &cmd, &e), 0);
		assert_int_equal(guard_split(big, GUARD_CMD_MAX + 1, &cmd, &e),
		    -1);
		for (i = 0; i + 1 < sizeof(big); i += 2)
			big[i + 1] = ' ';
		assert_int_equal(guard_split(big, GUARD_WORDS_MAX * 2, &cmd,
		    &e), 0);
		assert_int_equal(guard_split(big, GUARD_WORDS_MAX * 2 + 2, &cmd,
		    &e), -1);
	}
}

/* Paths: relative to the first root, symlinks followed as the kernel does. */
static const struct { const char *p; int write, ok; } paths[] = {
	{ "f", 0, 1 },			{ "f", 1, 0 },
	{ "", 0, 1 },			{ ".", 0, 1 },
	{ "sub/../f", 0, 1 },		{ "insub", 0, 1 },
	{ "insub/../f", 0, 1 },		{ "../rw/x", 1, 1 },
	{ "../out/secret", 0, 0 },	{ "../../", 0, 0 },
	{ "/", 0, 0 },			{ "/etc/passwd", 0, 0 },
	{ "~/x", 0, 0 },		{ "%s/rw/new/dir/", 1, 1 },
	{ "%s/rw/esc", 0, 0 },		{ "%s/rw/esc/x", 1, 0 },
	{ "%s/rw/rel/x", 0, 0 },	{ "%s/rw/toro/f", 0, 1 },
	{ "%s/rw/toro/f", 1, 0 },	{ "%s/rw/loop", 0, 0 },
	{ "%s/rw/tofile", 0, 1 },	{ "%s/rw/tofile", 1, 0 },
	{ "%s/rw/tofile/x", 0, 0 },	{ "%s/rw/nx/../esc/x", 0, 0 },
	{ "%s/rw/nx/../../out", 1, 0 },	{ "%s/rw/nx/../y", 1, 1 },
	{ "in/x", 1, 1 },		{ "in/../x", 1, 0 },
	{ "sub/x", 1, 0 },		{ "%s/rw//./x", 1, 1 },
	{ "%s/rwx", 0, 0 },		{ "%s/r", 0, 0 },
	{ "%s", 0, 0 },
};

static void
test_path(void **state)
{
	struct sxerr e;
	char p[600], big[PATH_MAX + 10];
	size_t i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		snprintf(p, sizeof(p), paths[i].p, dir);
		memset(&e, 0, sizeof(e));
		if ((guard_path(&g, NULL, p, paths[i].write, &e) == 0) !=
		    paths[i].ok)
			fail_msg("case %zu (%s, %s): %s", i, p,
			    paths[i].write ? "write" : "read", e.msg);
		if (!paths[i].ok)
			assert_int_equal(e.ex, EX_NOPERM);
	}
	memset(big, 'a', sizeof(big));
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(guard_path(&g, NULL, big, 0, &e), -1);
	/* the message shows the client's words, never control bytes */
	assert_int_equal(guard_path(&g, NULL, "/etc/\x1b[2J", 0, &e), -1);
	assert_null(strchr(e.msg, '\x1b'));
}

/* What a command line turns into: the argv run, or a refusal. */
static const struct { const char *in; const char *argv; } cmds[] = {
	{ "scp -f f", "scp -f -- f" },
	{ "scp -prv -f -- f", "scp -p -r -v -f -- f" },
	{ "scp -d -t ../rw", "scp -d -t -- ../rw" },
	{ "scp -t f", NULL },
	{ "scp -f", NULL },
	{ "scp -f -t f", NULL },
	{ "scp -t ../rw ../rw", NULL },
	{ "scp -q -f f", NULL },
	{ "scp -", NULL },
	{ "scp f", NULL },
	{ "/usr/lib/openssh/sftp-server",
	    "sftp-server -P symlink,hardlink" },
	{ "internal-sftp -e -l VERBOSE -fLOCAL0",
	    "sftp-server -e -l VERBOSE -fLOCAL0 -P symlink,hardlink" },
	{ "internal-sftp -l", NULL },
	{ "internal-sftp -l a.b", NULL },
	{ "internal-sftp -R", NULL },
	{ "sftp-server", NULL },
	{ "rsync --server -logDtpre.iLsfxCIvu . ../rw/",
	    "rsync --server --munge-links -logDtpre.iLsfxCIvu . ../rw/" },
	{ "rsync --server --sender -e.LsfxCIvu . f sub",
	    "rsync --server --munge-links --sender -e.LsfxCIvu . f sub" },
	{ "rsync --server --sender -B1024 -@-1 . f",
	    "rsync --server --munge-links --sender -B1024 -@-1 . f" },
	{ "rsync --server --sender -e31.x . f",
	    "rsync --server --munge-links --sender -e31.x . f" },
	{ "rsync --server --sender -B . f", NULL },
	{ "rsync --server --sender -Bx . f", NULL },
	{ "rsync --server --sender -e.x- . f", NULL },
	{ "rsync --server --sender -e . f", NULL },
	{ "rsync --server --sender - . f", NULL },
	{ "rsync --server --sender --delete=x . f", NULL },
	{ "rsync --server --sender --timeout . f", NULL },
	{ "rsync --server --sender --bwlimit= . f", NULL },
	{ "rsync --server --sender --suffix=a/b . f", NULL },
	{ "rsync --server --sender . f -x", NULL },
	{ "rsync --server --sender", NULL },
	{ "rsync --server --sender .", NULL },
	{ "rsync --server --sender x f", NULL },
	{ "rsync --server . ../rw/a ../rw/b", NULL },
	{ "rsync --server --sender --remove-source-files . f", NULL },
	{ "rsync --server --sender --files-from=sub . f",
	    "rsync --server --munge-links --sender --files-from=sub . f" },
	{ "rsync --server --sender --files-from=../out/x . f", NULL },
	{ "rsync --server --temp-dir=t . ../rw/d",
	    "rsync --server --munge-links --temp-dir=t . ../rw/d" },
	{ "rsync --server --temp-dir ../t . ../rw/d",
	    "rsync --server --munge-links --temp-dir ../t . ../rw/d" },
	{ "rsync --server --temp-dir ../../t . ../rw/d", NULL },
	{ "rsync --server --compare-dest=../../ro . ../rw/d",
	    "rsync --server --munge-links --compare-dest=../../ro . ../rw/d" },
	{ "rsync --server --backup-dir=../../ro . ../rw/d", NULL },
	{ "rsync --server --sender -be.Ls --backup-dir ../bak"
	    " --temp-dir=/x . f",
	    "rsync --server --munge-links --sender -be.Ls . f" },
	{ "rsync --server --sender --link-dest=/etc --files-from=-"
	    " --partial-dir /etc . f",
	    "rsync --server --munge-links --sender --files-from=- . f" },
	{ "rsync", NULL },
	{ "rsync --sender --server . f", NULL },
	{ "ls", NULL },
	{ "", NULL },
	{ "/bin/scp -f f", NULL },
};

static void
test_parse(void **state)
{
	struct sxerr e;
	char got[1024];
	size_t i, j;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		int rc = guard_parse(&g, cmds[i].in, strlen(cmds[i].in), &cmd,
		    &e);

		if (cmds[i].argv == NULL) {
			if (rc != -1)
				fail_msg("case %zu (%s) accepted", i,
				    cmds[i].in);
			assert_int_equal(e.ex, EX_NOPERM);
			continue;
		}
		if (rc != 0)
			fail_msg("case %zu (%s): %s", i, cmds[i].in, e.msg);
		got[0] = '\0';
		for (j = 0; j < cmd.argc; j++) {
			if (j > 0)
				strlcat(got, " ", sizeof(got));
			strlcat(got, cmd.argv[j], sizeof(got));
		}
		assert_null(cmd.argv[cmd.argc]);
		if (strcmp(got, cmds[i].argv) != 0)
			fail_msg("case %zu: got \"%s\"", i, got);
	}
	assert_int_equal(guard_parse(&g, "scp -t ../rw", 12, &cmd, &e), 0);
	assert_int_equal(cmd.kind, GK_SCP);
	assert_true(cmd.writes);
	assert_string_equal(cmd.prog, "/usr/bin/scp");
}

/*
 * What the checks alone cannot confine is marked, so that it is refused
 * where the kernel has no Landlock; the rest is not.
 */
static const struct { const char *in; int needs; } lls[] = {
	{ "scp -f f", 0 },
	{ "scp -p -f f sub/../f", 0 },
	{ "scp -t ../rw/new", 0 },
	{ "scp -r -f sub", 1 },
	{ "scp -rp -t ../rw", 1 },
	{ "scp -t ../rw", 1 },		/* a directory: the name is the client's */
	{ "scp -d -t ../rw/new", 1 },
	{ "rsync --server --sender -logDtpre.iLsfxCIvu . f", 0 },
	{ "rsync --server --sender -logDtpre.iLsfxCIvu . sub/", 0 },
	{ "rsync --server --sender -logDtpRe.LsfxCIvu --files-from - . sub",
	    1 },
	{ "rsync --server -logDtpre.iLsfxCIvu . ../rw/x", 1 },
	{ "rsync --server -logDtpre.iLsfxCIvu --link-dest=../a . ../rw/x",
	    1 },
};

static void
test_nolandlock(void **state)
{
	struct sxerr e;
	size_t i;

	for (i = 0; i < sizeof(lls) / sizeof(lls[0]); i++) {
		if (guard_parse(&g, lls[i].in, strlen(lls[i].in), &cmd,
		    &e) == -1)
			fail_msg("%s: %s", lls[i].in, e.msg);
		if ((cmd.needs_ll != NULL) != lls[i].needs)
			fail_msg("%s: needs_ll %s", lls[i].in,
			    cmd.needs_ll == NULL ? "unset" : cmd.needs_ll);
	}
	/* a link into a read-only root is not a place to write */
	snprintf(got_path, sizeof(got_path),
	    "rsync --server -logDtpre.iLsfxCIvu --link-dest=%s . ../rw/x", ro);
	assert_int_equal(guard_parse(&g, got_path, strlen(got_path), &cmd,
	    &e), -1);
	assert_non_null(strstr(e.msg, "read-only"));
}

/*
 * The trees a recursive scp or an rsync receiver walks hold no link that
 * leads out of the roots (or, for writing, out of the :rw roots).
 */
static void
test_links(void **state)
{
	static const struct { const char *in; int ok; } t[] = {
		{ "scp -r -f sub", 1 },
		{ "scp -r -f .", 1 },		/* ro/insub stays inside */
		{ "scp -f ../rw", 1 },		/* no recursion, no walk */
		{ "scp -r -f ../rw", 0 },	/* rw/esc leads out */
		{ "scp -r -t in", 1 },
		{ "scp -r -t ../rw", 0 },
		{ "rsync --server -logDtpre.iLsfxCIvu . in/x", 1 },
		{ "rsync --server -logDtpre.iLsfxCIvu . ../rw/", 0 },
		{ "rsync --server --sender -logDtpre.iLsfxCIvu . ../rw/", 1 },
	};
	struct sxerr e;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (guard_parse(&g, t[i].in, strlen(t[i].in), &cmd, &e) == -1)
			fail_msg("%s: %s", t[i].in, e.msg);
		if ((guard_links(&g, &cmd, &e) == 0) != t[i].ok)
			fail_msg("%s: %s", t[i].in, t[i].ok ? e.msg :
			    "accepted");
		if (!t[i].ok) {
			assert_int_equal(e.ex, EX_NOPERM);
			assert_non_null(strstr(e.msg, "symbolic link"));
		}
	}
}

static const struct { const char *text, *want; } cerrs[] = {
	{ "copy: 3\n", "c.yaml:1:7: copy: must be a map" },
	{ "copy: {foo: 1}\n", "c.yaml:1:8: unknown key copy.foo" },
	{ "copy: {roots: x}\n", "c.yaml:1:15: copy.roots: must be a list" },
	{ "copy:\n  roots:\n    - {path: /nonexistent-root}\n",
	    "c.yaml:3:14: root /nonexistent-root" },
	{ "copy:\n  roots:\n    - {path: /tmp, mode: rx}\n",
	    "c.yaml:3:26: mode is ro or rw" },
	{ "copy:\n  roots:\n    - {mode: rw}\n", "c.yaml:3:7: a root needs" },
	{ "copy:\n  roots:\n    - {path: /tmp, nope: 1}\n",
	    "c.yaml:3:20: unknown key nope" },
	{ "copy:\n  roots: [[/tmp]]\n", "c.yaml:2:11: a root is" },
	{ "copy: {require_landlock: yes}\n", "true or false" },
	{ "copy: {sftp_server: sftp-server}\n", "an absolute path" },
};

static void
test_config(void **state)
{
	struct config c;
	struct guard t;
	struct sxerr e;
	size_t i;
	static const char good[] = "copy:\n  roots:\n"
	    "    - {path: /tmp, mode: rw}\n    - /\n"
	    "  require_landlock: true\n  sftp_server: /opt/s\n";

	memset(&c, 0, sizeof(c));
	strlcpy(c.path, "c.yaml", sizeof(c.path));
	for (i = 0; i < sizeof(cerrs) / sizeof(cerrs[0]); i++) {
		guard_init(&t);
		assert_int_equal(config_parse(c.path, cerrs[i].text,
		    strlen(cerrs[i].text), &c.root, &e), 0);
		assert_int_equal(guard_config(&t, &c, 0, &e), -1);
		cnode_free(c.root);
		assert_int_equal(e.ex, EX_CONFIG);
		if (strstr(e.msg, cerrs[i].want) == NULL)
			fail_msg("case %zu: got \"%s\"", i, e.msg);
	}
	guard_init(&t);
	assert_int_equal(config_parse(c.path, good, strlen(good), &c.root, &e),
	    0);
	assert_int_equal(guard_config(&t, &c, 0, &e), 0);
	assert_int_equal(t.nroot, 2);
	assert_string_equal(t.root[0].path, "/tmp");
	assert_int_equal(t.root[0].rw, 1);
	assert_string_equal(t.root[1].path, "/");
	assert_int_equal(t.root[1].rw, 0);
	assert_int_equal(t.require_landlock, 1);
	assert_string_equal(t.sftp_server, "/opt/s");
	/* -r given: the section's roots are not added, the rest applies */
	guard_init(&t);
	assert_int_equal(guard_config(&t, &c, 1, &e), 0);
	assert_int_equal(t.nroot, 0);
	assert_int_equal(t.require_landlock, 1);
	cnode_free(c.root);
	/* no file, or no copy: section: nothing changes */
	c.root = NULL;
	assert_int_equal(guard_config(&t, &c, 0, &e), 0);
}

static void
test_check(void **state)
{
	struct guard t;
	struct sxerr e;
	char p[600];
	FILE *fp;

	snprintf(p, sizeof(p), "%s/rw/c.yaml", dir);
	assert_non_null(fp = fopen(p, "w"));
	fclose(fp);
	chmod(p, 0644);
	assert_int_equal(guard_check(&g, NULL, &e), 0);
	assert_int_equal(guard_check(&g, p, &e), -1);
	assert_int_equal(e.ex, EX_CONFIG);
	snprintf(p, sizeof(p), "%s/ro/f", dir);
	chmod(p, 0644);
	assert_int_equal(guard_check(&g, p, &e), 0);
	chmod(p, 0664);
	assert_int_equal(guard_check(&g, p, &e), -1);
	chmod(p, 0644);
	t = g;
	snprintf(t.sftp_server, sizeof(t.sftp_server), "%s/rw/toro/f", dir);
	assert_int_equal(guard_check(&t, NULL, &e), 0);
	snprintf(t.sftp_server, sizeof(t.sftp_server), "%s/ro/in/s", dir);
	assert_non_null(fp = fopen(t.sftp_server, "w"));
	fclose(fp);
	assert_int_equal(guard_check(&t, NULL, &e), -1);
}

static void
test_rules(void **state)
{
	struct ll_rule r[GUARD_RULES_MAX];
	struct sxerr e;
	size_t n, i;
	int prog = 0;

	assert_int_equal(guard_parse(&g, "scp -f f", 8, &cmd, &e), 0);
	n = guard_rules(&g, &cmd, r, GUARD_RULES_MAX);
	assert_string_equal(r[0].path, ro);
	assert_int_equal(r[0].access, LL_RO);
	assert_string_equal(r[1].path, rw);
	assert_int_equal(r[1].access, LL_RW);
	for (i = 0; i < n; i++) {
		/* nothing but the roots and /dev/null is writable */
		if (r[i].access == LL_RW && i > 2)
			assert_string_equal(r[i].path, "/dev/null");
		if (strcmp(r[i].path, "/usr/bin/scp") == 0)
			prog = r[i].access == LL_RX;
		assert_true(strcmp(r[i].path, "/usr/bin") != 0);
		assert_true(strcmp(r[i].path, "/") != 0);
		/* execute: the program and its ELF interpreter, no more */
		if (r[i].access == LL_RX)
			assert_true(strcmp(r[i].path, "/usr/bin/scp") == 0 ||
			    strcmp(r[i].path, cmd.interp) == 0);
	}
	assert_true(prog);
	assert_int_equal(cmd.interp[0], '/');
	assert_int_equal(guard_rules(&g, &cmd, r, 2), 2);
}

/*
 * The kernel layer by itself, in a child: read-only and read-write rules
 * hold, and everything not named is out of reach.
 */
static int
confined_child(void)
{
	struct ll_rule r[] = {
		{ ro, LL_RO, 0 },
		{ rw, LL_RW, 0 },
		{ "/nonexistent-optional", LL_RO, 1 },
	};
	struct sxerr e;
	char p[600];
	int fd;

	if (landlock_no_new_privs(&e) == -1 ||
	    landlock_confine(r, 3, &e) == -1)
		return 10;
	snprintf(p, sizeof(p), "%s/f", ro);
	if ((fd = open(p, O_RDONLY)) == -1)
		return 11;
	close(fd);
	if (open(p, O_WRONLY) != -1 || errno != EACCES)
		return 12;
	snprintf(p, sizeof(p), "%s/new", ro);
	if (open(p, O_WRONLY | O_CREAT, 0644) != -1 || errno != EACCES)
		return 13;
	snprintf(p, sizeof(p), "%s/new", rw);
	if ((fd = open(p, O_WRONLY | O_CREAT, 0644)) == -1)
		return 14;
	close(fd);
	if (unlink(p) == -1)
		return 15;
	snprintf(p, sizeof(p), "%s/x", out);
	if (open(p, O_WRONLY | O_CREAT, 0644) != -1 || errno != EACCES)
		return 16;
	if (open("/etc/passwd", O_RDONLY) != -1 || errno != EACCES)
		return 17;
	/* a symlink in the writable root that leads out leads nowhere */
	snprintf(p, sizeof(p), "%s/esc/x", rw);
	if (open(p, O_WRONLY | O_CREAT, 0644) != -1 || errno != EACCES)
		return 18;
	snprintf(p, sizeof(p), "%s/dev", rw);
	if (mknod(p, S_IFCHR | 0600, makedev(1, 3)) != -1)
		return 19;
	return 0;
}

static void
test_landlock(void **state)
{
	struct ll_rule bad = { "/nonexistent-required", LL_RO, 0 };
	struct sxerr e;
	pid_t pid;
	int st;

	if (landlock_abi() < 1)
		skip();
	assert_int_equal(landlock_confine(&bad, 1, &e), -1);
	assert_non_null(strstr(e.msg, "/nonexistent-required"));
	if ((pid = fork()) == 0)
		_exit(confined_child());
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roots),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_path),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_nolandlock),
		cmocka_unit_test(test_links),
		cmocka_unit_test(test_landlock),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
