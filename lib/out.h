/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef OUT_H
#define OUT_H

#include <stdio.h>

/*
 * Listings shared by all programs: aligned with a header on a terminal,
 * tab-separated without one into a pipe; JSON strings escaped exactly.
 */
struct table;

struct table	*table_new(size_t, const char *const *);
int		 table_add(struct table *, const char *const *);
void		 table_print(const struct table *, FILE *, int, int);
void		 table_free(struct table *);
void		 json_str(FILE *, const char *);
int		 out_close(FILE *);
int		 out_stdfd(void);
int		 out_debug_env(void);

#endif
