/* SPDX-License-Identifier: AGPL-3.0-only */
#include <sys/mman.h>

#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "memtrim.h"

/* The lowest address of the main thread's stack mapping; 0: unknown. */
static uintptr_t
stack_low(void)
{
	char line[512];
	unsigned long lo, hi;
	FILE *f;
	uintptr_t low = 0;

	if ((f = fopen("/proc/self/maps", "re")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, " [stack]") != NULL &&
		    sscanf(line, "%lx-%lx", &lo, &hi) == 2) {
			low = lo;
			break;
		}
	fclose(f);
	return low;
}

/*
 * Only from the main thread (the [stack] mapping is its stack). Below
 * this frame the stack is dead; a page under it is kept for the calls
 * made from here (madvise's own), and the rest is dropped: the kernel
 * gives zero pages again when a deeper call touches them.
 */
void
mem_trim(void)
{
	volatile char here = 0;
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE), low, top;

	top = (((uintptr_t)&here) & ~(pg - 1)) - 2 * pg;
	if ((low = stack_low()) != 0 && low < top)
		(void)madvise((void *)low, top - low, MADV_DONTNEED);
	/* last: stack_low()'s stdio buffer is freed memory too */
	malloc_trim(0);
}
