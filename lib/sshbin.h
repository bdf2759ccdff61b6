/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef SSHBIN_H
#define SSHBIN_H

/* The ssh to run: $SCITEX_SSH_SSH when set and not empty, else "ssh". */
const char	*ssh_bin(void);

#endif
