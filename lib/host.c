/* SPDX-License-Identifier: AGPL-3.0-only */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "text.h"

static int
bad_host(struct sxerr *e, const char *in, const char *why)
{
	char v[80];

	text_vis(in, v, sizeof(v));
	return sxerr_set(e, EX_DATAERR, "%s: not a valid host: %s", v, why);
}

static int
all_digits(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/*
 * A name of letters, digits, '-' and '_' in dot-separated labels of 1 to 63
 * characters. A name whose last label is numeric is an address, and must be
 * the dotted quad inet_ntop prints: the resolver would read 127.1, 0x7f.1 or
 * 2130706433 as 127.0.0.1, and a rule for that address must not be dodged.
 */
static int
canon_name(const char *in, char *out, size_t outsz, struct sxerr *e)
{
	char buf[HOST_MAX + 2];
	const char *label, *p;
	struct in_addr a4;
	size_t n = strlen(in), i;

	if (n > 0 && in[n - 1] == '.')
		n--;
	if (n == 0)
		return bad_host(e, in, "empty");
	if (n > HOST_MAX)
		return bad_host(e, in, "longer than 255 characters");
	if (in[0] == '-')
		return bad_host(e, in, "starts with '-'");
	for (i = 0; i < n; i++) {
		unsigned char c = in[i];
		if (!isalnum(c) && c != '-' && c != '_' && c != '.')
			return bad_host(e, in, c >= 0x80 ? "not ASCII" :
			    "contains a character not allowed in host names");
		buf[i] = tolower(c);
	}
	buf[n] = '\0';
	for (label = buf; ; label = p + 1) {
		p = strchr(label, '.');
		size_t len = p == NULL ? strlen(label) : (size_t)(p - label);
		if (len == 0)
			return bad_host(e, in, "empty label");
		if (len > 63)
			return bad_host(e, in, "label longer than 63 characters");
		if (p == NULL)
			break;
	}
	if (all_digits(label, strlen(label)) || inet_aton(buf, &a4) != 0) {
		char quad[INET_ADDRSTRLEN];
		if (inet_pton(AF_INET, buf, &a4) != 1 ||
		    inet_ntop(AF_INET, &a4, quad, sizeof(quad)) == NULL ||
		    strcmp(quad, buf) != 0)
			return bad_host(e, in,
			    "an IPv4 address must be a plain dotted quad");
	}
	if (strlcpy(out, buf, outsz) >= outsz)
		return bad_host(e, in, "too long");
	return 0;
}

/* IPv6 in the one form inet_ntop gives; a v4-mapped address as IPv4. */
static int
canon_v6(const char *in, char *out, size_t outsz, struct sxerr *e)
{
	struct in6_addr a6;
	char buf[INET6_ADDRSTRLEN];

	if (strlen(in) >= sizeof(buf) || inet_pton(AF_INET6, in, &a6) != 1)
		return bad_host(e, in, "not an IPv6 address");
	if (IN6_IS_ADDR_V4MAPPED(&a6)) {
		if (inet_ntop(AF_INET, &a6.s6_addr[12], buf, sizeof(buf)) == NULL)
			return bad_host(e, in, "not an IPv6 address");
	} else if (inet_ntop(AF_INET6, &a6, buf, sizeof(buf)) == NULL)
		return bad_host(e, in, "not an IPv6 address");
	if (strlcpy(out, buf, outsz) >= outsz)
		return bad_host(e, in, "too long");
	return 0;
}

/*
 * Validate a host operand and write its canonical form: lower case, one
 * trailing dot removed, addresses in one spelling. Anything that is not a
 * plausible name or address is refused (EX_DATAERR), never matched.
 */
int
host_canon(const char *in, char *out, size_t outsz, struct sxerr *e)
{
	if (in == NULL)
		return bad_host(e, "", "empty");
	if (strlen(in) > HOST_MAX + 1)
		return bad_host(e, in, "longer than 255 characters");
	if (strchr(in, ':') != NULL)
		return canon_v6(in, out, outsz, e);
	return canon_name(in, out, outsz, e);
}

/* A TCP port: decimal digits only, 1 to 65535. */
int
host_parse_port(const char *s, int *port, struct sxerr *e)
{
	char v[40];
	size_t n = strlen(s);
	long val;

	if (n > 0 && n <= 5 && all_digits(s, n) && (val = atol(s)) >= 1 &&
	    val <= 65535) {
		*port = (int)val;
		return 0;
	}
	text_vis(s, v, sizeof(v));
	return sxerr_set(e, EX_DATAERR, "%s: not a valid port: want 1 to 65535",
	    v);
}

static int
valid_user(const char *u, size_t n)
{
	size_t i;

	if (n == 0 || n > 32 || u[0] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)u[i]) && u[i] != '.' &&
		    u[i] != '_' && u[i] != '-')
			return 0;
	return 1;
}

/*
 * "[user@]host[:port]", an IPv6 literal in brackets, or an ssh_config alias
 * (which has the syntax of a host name). Host part canonicalised.
 */
int
host_parse_bastion(const char *s, struct bastion *b, struct sxerr *e)
{
	char hostbuf[HOST_MAX + 2], v[80];
	const char *at, *h, *colon, *end;
	size_t hl;

	memset(b, 0, sizeof(*b));
	text_vis(s, v, sizeof(v));
	if (!text_printable(s) || strlen(s) > HOST_MAX + 40)
		return sxerr_set(e, EX_DATAERR, "%s: not a valid bastion", v);
	h = s;
	if ((at = strchr(s, '@')) != NULL) {
		if (!valid_user(s, at - s))
			return sxerr_set(e, EX_DATAERR,
			    "%s: not a valid bastion: bad user name", v);
		memcpy(b->user, s, at - s);
		b->user[at - s] = '\0';
		h = at + 1;
	}
	if (*h == '[') {
		if ((end = strchr(h, ']')) == NULL)
			return sxerr_set(e, EX_DATAERR,
			    "%s: not a valid bastion: missing ']'", v);
		hl = end - h - 1;
		h++;
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] != '\0' && colon == NULL)
			return sxerr_set(e, EX_DATAERR,
			    "%s: not a valid bastion: junk after ']'", v);
		if (hl == 0 || memchr(h, ':', hl) == NULL)
			return sxerr_set(e, EX_DATAERR,
			    "%s: not a valid bastion: brackets hold an IPv6 "
			    "address", v);
	} else {
		colon = strchr(h, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			return sxerr_set(e, EX_DATAERR, "%s: not a valid "
			    "bastion: put an IPv6 address in brackets", v);
		hl = colon == NULL ? strlen(h) : (size_t)(colon - h);
	}
	if (hl >= sizeof(hostbuf))
		return sxerr_set(e, EX_DATAERR, "%s: not a valid bastion: "
		    "host too long", v);
	memcpy(hostbuf, h, hl);
	hostbuf[hl] = '\0';
	if (host_canon(hostbuf, b->host, sizeof(b->host), e) == -1)
		return -1;
	if (colon != NULL && host_parse_port(colon + 1, &b->port, e) == -1)
		return -1;
	return 0;
}

/* The bastion as the user would write it. */
int
host_fmt_bastion(const struct bastion *b, char *buf, size_t sz)
{
	int v6 = strchr(b->host, ':') != NULL, n;

	/* An IPv6 address always in brackets: host_parse_bastion reads it
	 * back only so, and so does ssh's ProxyJump. */
	n = snprintf(buf, sz, "%s%s%s%s%s", b->user, b->user[0] ? "@" : "",
	    v6 ? "[" : "", b->host, v6 ? "]" : "");
	if (n >= 0 && (size_t)n < sz && b->port)
		n += snprintf(buf + n, sz - n, ":%d", b->port);
	return n >= 0 && (size_t)n < sz ? 0 : -1;
}
