/* SPDX-License-Identifier: AGPL-3.0-only */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sxerr.h"

static void
vset(struct sxerr *e, int ex, const char *fmt, va_list ap)
{
	if (e == NULL)
		return;
	e->ex = ex;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
}

/* Record ex and a formatted message; always returns -1 for tail calls. */
int
sxerr_set(struct sxerr *e, int ex, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(e, ex, fmt, ap);
	va_end(ap);
	return -1;
}

/* As sxerr_set, with ": strerror(errno)" appended (errno as on entry). */
int
sxerr_errno(struct sxerr *e, int ex, const char *fmt, ...)
{
	va_list ap;
	int saved = errno;
	size_t n;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	vset(e, ex, fmt, ap);
	va_end(ap);
	n = strlen(e->msg);
	snprintf(e->msg + n, sizeof(e->msg) - n, ": %s", strerror(saved));
	errno = saved;
	return -1;
}
