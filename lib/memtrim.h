/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef MEMTRIM_H
#define MEMTRIM_H

#include <stddef.h>

/*
 * Hand back to the kernel what a long-lived process touched once and no
 * longer uses: the free memory in malloc's heap, and the stack below the
 * caller's frame, which setting up (parsing, formatting paths) made deep
 * and which would otherwise count as the process's private memory for as
 * long as it runs. A supervisor calls it when it settles; a thousand of
 * them idle on one host.
 */
void	mem_trim(void);

/*
 * Memory of its own pages for a large object a process keeps for life
 * (a supervisor's tunnel, 17 KiB, most of it zero): pages that are never
 * written stay unbacked, where a heap copy would be memset whole.
 * mem_copy_sparse() writes only the pages of dst that differ from src.
 */
void	*mem_pages(size_t);
void	 mem_pages_free(void *, size_t);
void	 mem_copy_sparse(void *, const void *, size_t);

#endif
