/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef MATCH_H
#define MATCH_H

#include "sxerr.h"

/*
 * Host patterns as in ssh_config(5) PATTERNS: '*' and '?' globs, comma
 * lists, '!' negation. Subjects are canonical host names (lower case);
 * patterns are compared case-insensitively.
 */
int	match_glob(const char *, const char *);
int	match_list(const char *, const char *);	/* 1 yes, 0 no, -1 negated */
int	match_list_check(const char *, struct sxerr *);

#endif
