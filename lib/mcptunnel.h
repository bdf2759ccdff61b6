/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef MCPTUNNEL_H
#define MCPTUNNEL_H

#include <stddef.h>

#include "mcptool.h"

/*
 * The tools of the ssh-tunnel-* programs: tunnel_setup, tunnel_status,
 * tunnel_remove and allow_check, on the same library, in this process.
 */
extern const struct mcptool	mcptunnel_tools[];
extern const size_t		mcptunnel_ntools;

#endif
