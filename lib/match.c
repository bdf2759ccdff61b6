/* SPDX-License-Identifier: AGPL-3.0-only */
#include <ctype.h>
#include <string.h>

#include "match.h"

/*
 * '*' matches any run, '?' any one character; case-insensitive. Iterative
 * with a single resume point for the last '*': a later '*' makes the earlier
 * one's choices irrelevant, so time is O(len(s) * len(p)), never
 * exponential, whatever the pattern.
 */
static int
glob_n(const char *s, const char *p, size_t pn)
{
	const char *star = NULL, *resume = NULL, *pe = p + pn;

	while (*s != '\0') {
		if (p < pe && (*p == '?' ||
		    tolower((unsigned char)*p) == tolower((unsigned char)*s))) {
			s++;
			p++;
		} else if (p < pe && *p == '*') {
			star = ++p;
			resume = s;
		} else if (star != NULL) {
			p = star;
			s = ++resume;
		} else
			return 0;
	}
	while (p < pe && *p == '*')
		p++;
	return p == pe;
}

int
match_glob(const char *s, const char *p)
{
	return glob_n(s, p, strlen(p));
}

/*
 * ssh_config(5) pattern lists: comma-separated globs, each optionally
 * negated with '!'. 1 if some positive pattern matches and no negated one
 * does; -1 if a negated pattern matches (it beats any positive match);
 * 0 otherwise. A list of only negations never matches on its own.
 */
int
match_list(const char *s, const char *list)
{
	const char *p = list, *end;
	int got = 0, neg;

	for (;;) {
		end = strchr(p, ',');
		size_t n = end == NULL ? strlen(p) : (size_t)(end - p);
		neg = n > 0 && *p == '!';
		if (glob_n(s, p + neg, n - neg)) {
			if (neg)
				return -1;
			got = 1;
		}
		if (end == NULL)
			break;
		p = end + 1;
	}
	return got;
}

/* Refuse lists with empty elements or characters no host name has. */
int
match_list_check(const char *list, struct sxerr *e)
{
	const char *p;
	int start = 1;

	if (*list == '\0')
		return sxerr_set(e, EX_CONFIG, "empty pattern");
	for (p = list; *p != '\0'; p++) {
		unsigned char c = *p;
		if (c == ',') {
			if (start)
				return sxerr_set(e, EX_CONFIG,
				    "empty element in pattern list \"%s\"",
				    list);
			start = 1;
			continue;
		}
		if (c == '!' && start) {
			start = 0;
			if (p[1] == ',' || p[1] == '\0' || p[1] == '!')
				return sxerr_set(e, EX_CONFIG,
				    "'!' without a pattern in \"%s\"", list);
			continue;
		}
		start = 0;
		if (!isalnum(c) && strchr("*?.-_:", c) == NULL)
			return sxerr_set(e, EX_CONFIG, "character '%c' not "
			    "allowed in host pattern \"%s\"",
			    c >= 0x20 && c < 0x7f ? c : '?', list);
	}
	if (start)
		return sxerr_set(e, EX_CONFIG,
		    "empty element in pattern list \"%s\"", list);
	return 0;
}
