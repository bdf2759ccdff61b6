/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef MCPINFO_H
#define MCPINFO_H

#include <stddef.h>

#include "mcptool.h"

/*
 * The read-only tools: what the programs already show people, for agents.
 * tunnel_probe (ssh-tunnel-ls --probe), tunnel_client_config (-c),
 * tunnel_bastion_config (ssh-tunnel-up -K), tunnel_log, policy_check
 * (ssh-allow-check -n), copy_guard_line and copy_guard_check
 * (ssh-copy-guard -n). None changes anything. The two that run a
 * program (the probe's ssh, tail or journalctl) wait for it through the
 * session (mcptools_job), as the remote tools do.
 */
extern const struct mcptool	mcpinfo_tools[];
extern const size_t		mcpinfo_ntools;

#endif
