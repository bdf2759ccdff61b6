/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef VEC_H
#define VEC_H

#include <stddef.h>

/*
 * Room for item n in the array *vp points to (items of sz bytes, *room
 * of them): doubled when full, from 16, so that appending a thousand
 * copies each item a few times. 0, or -1 out of memory (the array as it
 * was, still the caller's).
 */
int	vec_room(void *, size_t *, size_t, size_t);

#endif
