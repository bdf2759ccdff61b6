/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef MEMTRIM_H
#define MEMTRIM_H

/*
 * Hand back to the kernel what a long-lived process touched once and no
 * longer uses: the free memory in malloc's heap, and the stack below the
 * caller's frame, which setting up (parsing, formatting paths) made deep
 * and which would otherwise count as the process's private memory for as
 * long as it runs. A supervisor calls it when it settles; a thousand of
 * them idle on one host.
 */
void	mem_trim(void);

#endif
