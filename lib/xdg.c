/* SPDX-License-Identifier: AGPL-3.0-only */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "xdg.h"

/* NULL when neither $HOME nor the password database gives a path. */
const char *
xdg_home(int flags)
{
	const char *h = getenv("HOME");
	struct passwd *pw;

	if (h != NULL && h[0] == '/')
		return h;
	if ((flags & XDG_ENV_HOME) == 0 && (pw = getpwuid(getuid())) != NULL &&
	    pw->pw_dir[0] == '/')
		return pw->pw_dir;
	return NULL;
}

/*
 * $var/sub, else HOME/dflt/sub (var NULL: always the latter), into buf;
 * -1 when there is no home or the path does not fit.
 */
int
xdg_path(char *buf, size_t sz, const char *var, const char *dflt,
    const char *sub, int flags)
{
	const char *x = var != NULL ? getenv(var) : NULL, *h;
	int n;

	if (x != NULL && x[0] == '/')
		n = snprintf(buf, sz, "%s/%s", x, sub);
	else if ((h = xdg_home(flags)) != NULL)
		n = snprintf(buf, sz, "%s/%s/%s", h, dflt, sub);
	else
		return -1;
	return n < 0 || (size_t)n >= sz ? -1 : 0;
}
