/* SPDX-License-Identifier: AGPL-3.0-only */
#include <stdlib.h>
#include <string.h>

#include "vec.h"

/* vp is a T **, passed as void * (a T ** is no void **). */
int
vec_room(void *vp, size_t *room, size_t n, size_t sz)
{
	void *v;
	size_t r;

	if (n < *room)
		return 0;
	memcpy(&v, vp, sizeof(v));
	r = *room == 0 ? 16 : *room * 2;
	if ((v = reallocarray(v, r, sz)) == NULL)
		return -1;
	memcpy(vp, &v, sizeof(v));
	*room = r;
	return 0;
}
