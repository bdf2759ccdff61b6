/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef DIRWATCH_H
#define DIRWATCH_H

#include <stdint.h>

/*
 * Directories watched with inotify: a file renamed into place (a state
 * table, a scheduler's discovery file) is seen as an event that names it.
 *
 * dirwatch_open: a descriptor (non-blocking, close-on-exec) watching
 * each of the n directories for mask; -1 with errno set when any cannot
 * be watched (callers then look at everything, as without inotify).
 *
 * dirwatch_drain: every event queued on fd read; fn(name, arg) for each
 * that names an entry of a watched directory. 1 when the kernel's queue
 * overflowed (events were lost: the caller looks at everything), else 0.
 */
int	dirwatch_open(const char *const [], size_t, uint32_t);
int	dirwatch_drain(int, void (*)(const char *, void *), void *);

#endif
