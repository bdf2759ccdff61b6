/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef OUT_H
#define OUT_H

#include <stdio.h>

/*
 * Listings shared by all programs: aligned with a header on a terminal,
 * tab-separated without one into a pipe; JSON strings escaped exactly.
 */
struct out_table;

struct out_table *out_table_new(size_t, const char *const *);
int	 out_table_add(struct out_table *, const char *const *);
void	 out_table_print(const struct out_table *, FILE *, int, int);
void	 out_table_free(struct out_table *);
void	 out_json_str(FILE *, const char *);
int	 out_close(FILE *);
int	 out_stdfd(void);
int	 out_debug_env(void);
void	 out_flag(int, const char *, void (*)(FILE *, int), int *, int *);
int	 out_usage_status(FILE *, int);
void	 out_note(void *, int, const char *);

#endif
