/* SPDX-License-Identifier: AGPL-3.0-only */
/*
 * libFuzzer: a primitive's request from arbitrary fields, through
 * remote_check and remote_argv. Whatever is accepted must come out as an
 * argv where no value can be an option, the host is canonical, the words
 * of an argv request read back from the remote command exactly as a POSIX
 * shell would split them, and rsync's -e string holds nothing given.
 * Also a probe's output read with remote_probe_found.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "remote.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define NF	16

/*
 * Split s the way a POSIX shell splits plain words and single-quoted
 * strings (all quote_word makes); anything else is a finding.
 */
static size_t
unquote(const char *s, char **w, size_t max)
{
	size_t n = 0, len;
	char *o;

	while (*s != '\0') {
		if (n == max)
			abort();
		if (*s == ' ') {
			s++;
			continue;
		}
		if ((o = w[n++] = malloc(strlen(s) + 1)) == NULL)
			abort();
		while (*s != '\0' && *s != ' ') {
			if (*s == '\'') {
				len = strcspn(s + 1, "'");
				if (s[1 + len] != '\'')
					abort();	/* unterminated */
				memcpy(o, s + 1, len);
				o += len;
				s += len + 2;
			} else if (*s == '\\' && s[1] == '\'') {
				*o++ = '\'';
				s += 2;
			} else if (strchr("\"$`\\|&;<>()*?[]{}~#!\t\n", *s) !=
			    NULL)
				abort();	/* a shell would act on it */
			else
				*o++ = *s++;
		}
		*o = '\0';
	}
	return n;
}

static void
check_argv(const struct remote_req *r, char **v)
{
	char *w[REMOTE_ARGC_MAX + 1];
	size_t i, n, dd = 0;

	for (i = 0; v[i] != NULL; i++)
		if (strcmp(v[i], "--") == 0 && dd == 0)
			dd = i;
	if (dd == 0)
		abort();
	/* After "--": operands only, never an option. */
	for (i = dd + 1; v[i] != NULL; i++)
		if (v[i][0] == '-' && !(r->op == REMOTE_EXEC && i == dd + 2))
			abort();
	if (r->op == REMOTE_EXEC && r->argv != NULL) {
		n = unquote(v[dd + 2], w, REMOTE_ARGC_MAX + 1);
		if (n != r->argc)
			abort();
		for (i = 0; i < n; i++) {
			if (strcmp(w[i], r->argv[i]) != 0)
				abort();
			free(w[i]);
		}
	}
	if ((r->op == REMOTE_SYNC_PUSH || r->op == REMOTE_SYNC_PULL) &&
	    (strcmp(v[2], "-e") != 0 || strncmp(v[3], "ssh -T -o BatchMode=yes "
	    "-o ControlMaster=no -o ControlPath=none -o ClearAllForwardings=yes "
	    "-o PermitLocalCommand=no", 115) != 0 ||
	    strspn(v[3] + 115, " -p0123456789") != strlen(v[3] + 115)))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[8192], out[64];
	const char *f[NF];
	struct remote_req r;
	struct remote_target t;
	struct sxerr e;
	size_t nf = 0, i;
	char **v;

	if (size < 2 || size >= sizeof(buf))
		return 0;
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	/* Fields separated by NUL: host, then what the op takes. */
	for (i = 0; i < size - 1 && nf < NF; i += strlen(buf + i) + 1)
		f[nf++] = buf + i;
	if (nf < 2)
		return 0;
	memset(&r, 0, sizeof(r));
	r.op = data[0] % 6;
	r.host = f[0];
	r.tty = data[0] & 0x08;
	r.recursive = data[0] & 0x10;
	r.delete = data[0] & 0x20;
	if (r.op == REMOTE_EXEC && (data[0] & 0x40)) {
		r.command = f[1];
	} else if (r.op == REMOTE_EXEC) {
		r.argv = f + 1;
		r.argc = nf - 1;
	} else if (r.op == REMOTE_PROBE) {
		r.names = f + 1;
		r.nnames = nf - 1;
	} else {
		r.local = f[1];
		r.remote = nf > 2 ? f[2] : NULL;
		r.exclude = f + 3;
		r.nexclude = nf > 3 ? nf - 3 : 0;
	}
	if (remote_check(&r, &t, &e) == 0) {
		if (t.dest.host[0] == '-' ||
		    strspn(t.dest.host, "abcdefghijklmnopqrstuvwxyz0123456789"
		    ".-_:") != strlen(t.dest.host))
			abort();
		if (remote_argv(&r, &t, "ssh", &v, &e) == -1)
			abort();
		check_argv(&r, v);
		remote_argv_free(v);
	}
	(void)remote_probe_found(f[1], f[0], out, sizeof(out));
	return 0;
}
