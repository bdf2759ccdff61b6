/* SPDX-License-Identifier: AGPL-3.0-only */
#include <sys/stat.h>
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slurp.h"
#include "state.h"
#include "tunnel.h"
#include "unit.h"
#include "xdg.h"

/*
 * The templates: systemd/{system,user}/ssh-tunnel@.service of the source
 * tree, made into C strings by the Makefile with @BIN@ where the binary
 * goes. Hardened as far as ssh still runs; see ssh-tunnel-up(1).
 */
#include "units.h"

#define UNIT_MAX	8192	/* an installed unit larger than this is not ours */

/*
 * The binary goes into ExecStart= as one word: absolute, and made only of
 * characters that systemd reads literally (no whitespace, quotes,
 * backslashes, '%' specifiers or '$' variables).
 */
int
unit_valid_bin(const char *bin, struct sxerr *e)
{
	const char *s;

	if (bin == NULL || bin[0] != '/')
		return sxerr_set(e, EX_DATAERR,
		    "ExecStart: not an absolute path: %s", bin ? bin : "");
	if (strlen(bin) >= UNIT_PATH)
		return sxerr_set(e, EX_DATAERR, "ExecStart: path too long");
	for (s = bin; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr("/._+-", *s) == NULL)
			return sxerr_set(e, EX_DATAERR, "ExecStart: %s: "
			    "character 0x%02x cannot go into a unit file",
			    bin, (unsigned char)*s);
	if (strstr(bin, "/../") != NULL || strstr(bin, "/./") != NULL)
		return sxerr_set(e, EX_DATAERR,
		    "ExecStart: %s: not a normalized path", bin);
	return 0;
}

/* The unit text for bin, in *out (malloc'd, the caller frees it). */
int
unit_render(enum unit_kind k, const char *bin, char **out, struct sxerr *e)
{
	const char *t = k == UNIT_SYSTEM ? system_tmpl : user_tmpl;
	const char *at;
	size_t len;

	*out = NULL;
	if (unit_valid_bin(bin, e) == -1)
		return -1;
	at = strstr(t, "@BIN@");
	len = strlen(t) - 5 + strlen(bin);
	if ((*out = malloc(len + 1)) == NULL)
		return sxerr_errno(e, EX_OSERR, "unit");
	snprintf(*out, len + 1, "%.*s%s%s", (int)(at - t), t, bin, at + 5);
	return 0;
}

/* "ssh-tunnel@NAME.service" for a valid tunnel name. */
int
unit_instance(const char *name, char *buf, size_t sz, struct sxerr *e)
{
	int n;

	if (tunnel_valid_name(name, e) == -1)
		return -1;
	n = snprintf(buf, sz, "ssh-tunnel@%s.service", name);
	if (n < 0 || (size_t)n >= sz)
		return sxerr_set(e, EX_OSERR, "unit name: buffer too small");
	return 0;
}

/*
 * Where the template goes: /etc/systemd/system, or the user's
 * $XDG_CONFIG_HOME/systemd/user (default ~/.config/systemd/user).
 */
int
unit_dir(enum unit_kind k, char *buf, size_t sz, struct sxerr *e)
{
	if (k == UNIT_SYSTEM) {
		if (strlcpy(buf, "/etc/systemd/system", sz) >= sz)
			return sxerr_set(e, EX_CONFIG, "unit directory: path "
			    "too long");
		return 0;
	}
	if (xdg_home(XDG_ENV_HOME) == NULL)
		return sxerr_set(e, EX_CONFIG,
		    "HOME: not set to an absolute path");
	if (xdg_path(buf, sz, "XDG_CONFIG_HOME", ".config",
	    "systemd/user", XDG_ENV_HOME) == -1)
		return sxerr_set(e, EX_CONFIG, "unit directory: path too long");
	return 0;
}

/*
 * 1 when path holds exactly text, 0 when it is missing or differs (then
 * it is to be written), -1 when it cannot be read.
 */
int
unit_current(const char *path, const char *text, struct sxerr *e)
{
	char buf[UNIT_MAX + 1];
	size_t len = strlen(text), have;
	int rc, same;

	if ((rc = slurp(path, O_NOFOLLOW, buf, sizeof(buf), &have)) == -1) {
		if (errno == ENOENT)
			return 0;
		return sxerr_errno(e, EX_OSERR, "%s", path);
	}
	same = rc == 0 && have == len && memcmp(buf, text, len) == 0;
	return same;
}

/*
 * text into path (in dir, made if missing) unless it is there already,
 * byte for byte; *changed tells whether it was written (a daemon-reload
 * is due then). The write is atomic.
 */
static int
put_unit_file(const char *dir, const char *path, const char *text,
    int *changed, struct sxerr *e)
{
	int rc;

	*changed = 0;
	if ((rc = unit_current(path, text, e)) == 0 &&
	    (rc = state_mkdir(dir, e)) == 0 &&
	    (rc = state_write_file(path, text, strlen(text), 0644,
	    STATE_DURABLE, e)) == 0)
		*changed = 1;
	return rc == -1 ? -1 : 0;
}

/* The template for bin into dir, as put_unit_file says. */
int
unit_install(enum unit_kind k, const char *dir, const char *bin, int *changed,
    struct sxerr *e)
{
	char path[UNIT_PATH + sizeof(UNIT_TEMPLATE) + 1], *u;
	int rc;

	*changed = 0;
	if (unit_render(k, bin, &u, e) == -1)
		return -1;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, UNIT_TEMPLATE) >=
	    sizeof(path)) {
		free(u);
		return sxerr_set(e, EX_OSERR, "%s: path too long", dir);
	}
	rc = put_unit_file(dir, path, u, changed, e);
	free(u);
	return rc;
}

/*
 * Where a user manager cannot make the user namespace the user unit's
 * sandbox lives in, systemd fails the unit at every start ("Failed to set
 * up user namespacing"): a tunnel never up is worse than one less
 * confined. This drop-in then turns off what needs the namespace; the
 * filters (system calls, address families, no new privileges) stay.
 */
static const char no_userns[] =
    "# Written by ssh-tunnel-up: user namespaces are not available to this\n"
    "# user, so the sandbox that needs one is off (ssh-tunnel-up(1),\n"
    "# Backends under systemd). Removed by ssh-tunnel-up once they are.\n"
    "[Service]\n"
    "PrivateUsers=no\n"
    "ProtectSystem=no\n"
    "ProtectHome=no\n"
    "BindPaths=\n"
    "PrivateTmp=no\n"
    "PrivateDevices=no\n"
    "ProtectKernelTunables=no\n"
    "ProtectKernelModules=no\n"
    "ProtectControlGroups=no\n"
    "ProtectClock=no\n"
    "ProtectHostname=no\n"
    "CapabilityBoundingSet=~\n";

/*
 * The user unit's drop-in for a manager without user namespaces: written
 * when usable is 0, removed when 1; *changed as for unit_install.
 */
int
unit_userns_dropin(const char *dir, int usable, int *changed,
    struct sxerr *e)
{
	char d[UNIT_PATH + 64], path[UNIT_PATH + 96];

	*changed = 0;
	if ((size_t)snprintf(d, sizeof(d), "%s/%s.d", dir, UNIT_TEMPLATE) >=
	    sizeof(d) || (size_t)snprintf(path, sizeof(path), "%s/%s", d,
	    UNIT_NO_USERNS) >= sizeof(path))
		return sxerr_set(e, EX_OSERR, "%s: path too long", dir);
	if (usable) {
		if (unlink(path) == 0)
			*changed = 1;
		else if (errno != ENOENT)
			return sxerr_errno(e, EX_OSERR, "%s", path);
		return 0;
	}
	return put_unit_file(d, path, no_userns, changed, e);
}
