/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef USERNS_H
#define USERNS_H

/*
 * Can this process make what a user manager needs for a unit's sandbox:
 * a user namespace of its own with a mount namespace in it, mapped and
 * able to mount? 1 yes, 0 no (user.max_user_namespaces=0, the Debian
 * sysctl kernel.unprivileged_userns_clone=0, a seccomp filter, an LSM
 * that takes the capabilities away inside).
 */
int	userns_usable(void);

#endif
