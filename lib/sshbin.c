/* SPDX-License-Identifier: AGPL-3.0-only */
#include <stdlib.h>

#include "sshbin.h"

const char *
ssh_bin(void)
{
	const char *s = getenv("SCITEX_SSH_SSH");

	return s != NULL && *s != '\0' ? s : "ssh";
}
