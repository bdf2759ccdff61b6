/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef XDG_H
#define XDG_H

#include <stddef.h>

/*
 * The user's directories, as the XDG base directory specification names
 * them: $VAR when it is an absolute path, else a default under the home
 * directory: $HOME when absolute, else the password database's, unless
 * XDG_ENV_HOME asks for $HOME only (what the user's systemd manager and
 * our state follow, so that the two agree).
 */
#define XDG_ENV_HOME	0x1

const char *xdg_home(int flags);
int	xdg_path(char *buf, size_t sz, const char *var, const char *dflt,
	    const char *sub, int flags);

#endif
