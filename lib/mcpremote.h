/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef MCPREMOTE_H
#define MCPREMOTE_H

#include <stddef.h>

#include "mcptool.h"

/*
 * The tools of scitex-ssh 1.0's remote primitives (lib/remote.c): exec,
 * probe_host, copy_to, copy_from, sync. Each waits for its job through
 * the session (struct mcpwait), so that ping is answered meanwhile and a
 * cancel ends the job.
 */
extern const struct mcptool	mcpremote_tools[];
extern const size_t		mcpremote_ntools;

#endif
