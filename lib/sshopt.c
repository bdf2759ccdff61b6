/* SPDX-License-Identifier: AGPL-3.0-only */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "host.h"
#include "sshopt.h"
#include "text.h"

#define YESNO	"yes|no"

/*
 * An allowlist, because other options run programs or load code
 * (ProxyCommand, LocalCommand, KnownHostsCommand, PKCS11Provider, ...) or
 * would break supervision (ControlMaster, ExitOnForwardFailure, LogLevel,
 * forwards of their own). Values that only make sense with a person at the
 * keyboard (ask, confirm) are left out: the supervisor runs in batch mode.
 * Sorted, as ssh_config(5) lists them.
 */
static const struct sshopt opts[] = {
#define SSHOPT(name, kind, lo, hi, words)	{ name, kind, lo, hi, words },
#include "sshopt.def"
#undef SSHOPT
};

#define NOPTS	(sizeof(opts) / sizeof(opts[0]))
#define JUMP_MAX	8

const struct sshopt *
sshopt_table(size_t *n)
{
	*n = NOPTS;
	return opts;
}

/* Is v one of the '|'-separated words (case-insensitive, as ssh)? */
static int
one_of(const char *v, const char *words)
{
	const char *w, *bar;
	size_t n;

	if (words == NULL)
		return 0;
	for (w = words; ; w = bar + 1) {
		bar = strchr(w, '|');
		n = bar == NULL ? strlen(w) : (size_t)(bar - w);
		if (strlen(v) == n && strncasecmp(v, w, n) == 0)
			return 1;
		if (bar == NULL)
			return 0;
	}
}

/* Non-empty, and only characters of set (plus alphanumerics). */
static int
only(const char *v, const char *set)
{
	if (*v == '\0')
		return 0;
	for (; *v != '\0'; v++)
		if (!isalnum((unsigned char)*v) && strchr(set, *v) == NULL)
			return 0;
	return 1;
}

static int
num(const char *v, long lo, long hi, int base)
{
	char *end;
	long l;

	if (!isdigit((unsigned char)*v) || strlen(v) > 8)
		return 0;
	errno = 0;
	l = strtol(v, &end, base);
	return errno == 0 && *end == '\0' && l >= lo && l <= hi;
}

/* Bytes as RekeyLimit takes them: digits, then K, M or G if at all. */
static int
size(const char *v)
{
	size_t n = strspn(v, "0123456789");

	return n > 0 && n <= 8 && (v[n] == '\0' ||
	    (strchr("KMG", v[n]) != NULL && v[n + 1] == '\0'));
}

/*
 * A path as written: absolute or under ~/, of plain characters only. No
 * %-tokens and no ${VAR}: ssh expands both in path options, and a path
 * needs neither.
 */
static int
plain_path(const char *v)
{
	if (!(v[0] == '/' || (v[0] == '~' && v[1] == '/')))
		return 0;
	return only(v, "._/~+-");
}

int
sshopt_path(const char *v, struct sxerr *e)
{
	char vis[80];

	if (plain_path(v) && strlen(v) < 768)
		return 0;
	text_vis(v, vis, sizeof(vis));
	return sxerr_set(e, EX_DATAERR, "%s: want /... or ~/... of "
	    "A-Z a-z 0-9 . _ / ~ + -", vis);
}

/* "none", or [user@]host[:port],... each hop a valid bastion. */
static int
jump(const char *v, struct sxerr *e)
{
	char hop[HOST_MAX + 48];
	struct bastion b;
	const char *p, *comma;
	size_t n, nhop = 0;

	for (p = v; ; p = comma + 1) {
		comma = strchr(p, ',');
		n = comma == NULL ? strlen(p) : (size_t)(comma - p);
		if (n == 0 || n >= sizeof(hop) || ++nhop > JUMP_MAX)
			return sxerr_set(e, EX_DATAERR, "want up to %d "
			    "[user@]host[:port] separated by commas", JUMP_MAX);
		memcpy(hop, p, n);
		hop[n] = '\0';
		if (host_parse_bastion(hop, &b, e) == -1)
			return -1;
		if (comma == NULL)
			return 0;
	}
}

static const char *
want(const struct sshopt *o)
{
	switch (o->type) {
	case SO_HOST:
		return "a host name or address";
	case SO_NUM:
		return "a number";
	case SO_CHOICE:
		return "one of";
	case SO_PATH:
		return "/... or ~/... of A-Z a-z 0-9 . _ / ~ + -";
	case SO_USER:
		return "a user name of A-Z a-z 0-9 . _ -";
	case SO_JUMP:
		return "[user@]host[:port],...";
	case SO_ALGS:
		return "a list of A-Z a-z 0-9 @ . , + ^ _ -";
	case SO_IFACE:
		return "an interface name";
	case SO_OCTAL:
		return "an octal mask up to 0777";
	case SO_SIZE:
		return "a size such as 1G";
	}
	return "";
}

/* Does v fit o's grammar? 0 yes; -1 with sub filled where a helper says
 * more than want() can. */
static int
fits(const struct sshopt *o, const char *v, struct sxerr *sub)
{
	char canon[HOST_MAX + 1];

	sub->msg[0] = '\0';
	if (o->type != SO_CHOICE && one_of(v, o->words))
		return 0;
	switch (o->type) {
	case SO_HOST:
		return host_canon(v, canon, sizeof(canon), sub);
	case SO_NUM:
		return num(v, o->lo, o->hi, 10) ? 0 : -1;
	case SO_CHOICE:
		return one_of(v, o->words) ? 0 : -1;
	case SO_PATH:
		return plain_path(v) ? 0 : -1;
	case SO_USER:
		return host_valid_user(v, strlen(v)) ? 0 : -1;
	case SO_JUMP:
		return jump(v, sub);
	case SO_ALGS:
		return only(v, "@.,+^_-") ? 0 : -1;
	case SO_IFACE:
		return v[0] != '-' && strlen(v) < 16 && only(v, "._-") ? 0 : -1;
	case SO_OCTAL:
		return num(v, o->lo, o->hi, 8) ? 0 : -1;
	case SO_SIZE:
		return size(v) ? 0 : -1;
	}
	return -1;
}

/*
 * "Keyword=value" with a keyword of the table (any case, as ssh takes it)
 * and a value of its grammar; the message names the option.
 */
int
sshopt_check(const char *s, struct sxerr *e)
{
	char vis[80], kw[64];
	const struct sshopt *o = NULL;
	struct sxerr sub;
	const char *eq;
	size_t i, klen;

	if (s == NULL)
		s = "";
	klen = (eq = strchr(s, '=')) == NULL ? 0 : (size_t)(eq - s);
	if (klen > 0 && klen < sizeof(kw)) {
		memcpy(kw, s, klen);
		kw[klen] = '\0';
	}
	if (klen == 0 || klen >= sizeof(kw) || !only(kw, "") ||
	    eq[1] == '\0') {
		text_vis(s, vis, sizeof(vis));
		return sxerr_set(e, EX_DATAERR, "%s: bad ssh option (want "
		    "Keyword=value)", vis);
	}
	for (i = 0; i < NOPTS && o == NULL; i++)
		if (strcasecmp(opts[i].name, kw) == 0)
			o = &opts[i];
	if (o == NULL)
		return sxerr_set(e, EX_DATAERR, "%s: ssh option not allowed in "
		    "a tunnel definition", kw);
	if (fits(o, eq + 1, &sub) == 0 && strlen(eq + 1) < 512)
		return 0;
	text_vis(eq + 1, vis, sizeof(vis));
	if (sub.msg[0] != '\0')
		return sxerr_set(e, EX_DATAERR, "%s: %s", o->name, sub.msg);
	if (o->type == SO_CHOICE)
		return sxerr_set(e, EX_DATAERR, "%s: %s: want one of %s",
		    o->name, vis, o->words);
	return sxerr_set(e, EX_DATAERR, "%s: %s: want %s%s%s", o->name, vis,
	    want(o), o->words != NULL ? ", or " : "",
	    o->words != NULL ? o->words : "");
}
