/* SPDX-License-Identifier: AGPL-3.0-only */
/*
 * The obvious recursive glob, exponential but plainly right: the reference
 * match_glob() is checked against (tests/unit/match.c, tests/fuzz/match.c).
 */
static int
naive(const char *s, const char *p)
{
	if (*p == '\0')
		return *s == '\0';
	if (*p == '*')
		return naive(s, p + 1) || (*s != '\0' && naive(s + 1, p));
	if (*s == '\0')
		return 0;
	return (*p == '?' || *p == *s) && naive(s + 1, p + 1);
}
