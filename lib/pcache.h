/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef PCACHE_H
#define PCACHE_H

#include <sys/stat.h>

#include <stddef.h>

/*
 * A compiled form of a file, kept in the user's cache directory and valid
 * only while the file is byte for byte the one it was made from (device,
 * inode, size, mtime and ctime agree). It spares ssh-allow-check the YAML
 * parse on every ssh invocation.
 */
int	pcache_get(const char *, const char *, const struct stat *, void **,
	    size_t *);
void	pcache_put(const char *, const char *, const struct stat *,
	    const void *, size_t);

#endif
