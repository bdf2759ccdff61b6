/* SPDX-License-Identifier: AGPL-3.0-only */
#include <sys/mman.h>

#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "memtrim.h"
#include "slurp.h"

/* A line of /proc/self/maps: the [stack] mapping's low end into arg. */
static int
stack_line(char *line, void *arg)
{
	unsigned long lo;

	if (strstr(line, " [stack]") == NULL || sscanf(line, "%lx-", &lo) != 1)
		return 0;
	*(uintptr_t *)arg = lo;
	return 1;
}

/*
 * The lowest address of the main thread's stack mapping; 0: unknown.
 * Not inlined: its buffer must not widen mem_trim()'s frame, under
 * which the stack is dropped.
 */
static __attribute__((noinline)) uintptr_t
stack_low(void)
{
	char buf[1024];
	uintptr_t low = 0;

	(void)slurp_lines("/proc/self/maps", buf, sizeof(buf), stack_line,
	    &low);
	return low;
}

/*
 * Only from the main thread (the [stack] mapping is its stack). Below
 * this frame the stack is dead; 1 KiB under it is kept for the calls
 * made from here (madvise, malloc_trim: a few hundred bytes), and the
 * rest is dropped: the kernel gives zero pages again when a deeper call
 * touches them.
 */
void
mem_trim(void)
{
	volatile char here = 0;
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE), low, top;

	top = ((uintptr_t)&here - 1024) & ~(pg - 1);
	if ((low = stack_low()) != 0 && low < top)
		(void)madvise((void *)low, top - low, MADV_DONTNEED);
	malloc_trim(0);
}

void *
mem_pages(size_t n)
{
	void *p;

	p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void
mem_pages_free(void *p, size_t n)
{
	if (p != NULL)
		(void)munmap(p, n);
}

/* n bytes of p all zero. */
static int
all_zero(const unsigned char *p, size_t n)
{
	while (n > 0 && *p == 0)
		p++, n--;
	return n == 0;
}

/*
 * A page never touched is not resident, and reading it would make it so
 * (some kernels give each anonymous read fault a page of its own, not
 * the shared zero page): such a page is left alone while src has only
 * zeros for it; any other page is written where it differs.
 */
void
mem_copy_sparse(void *dst, const void *src, size_t n)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), off, len;
	unsigned char *d = dst, in;
	const unsigned char *s = src;
	uintptr_t base;

	for (off = 0; off < n; off += len) {
		base = (uintptr_t)(d + off) & ~(uintptr_t)(pg - 1);
		len = pg - ((uintptr_t)(d + off) - base);
		if (len > n - off)
			len = n - off;
		if (mincore((void *)base, pg, &in) == 0 && !(in & 1) &&
		    all_zero(s + off, len))
			continue;
		if (memcmp(d + off, s + off, len) != 0)
			memcpy(d + off, s + off, len);
	}
}
